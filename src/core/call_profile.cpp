#include "core/call_profile.h"

namespace billing {
namespace {

struct Band {
  int64_t from;
  int64_t below;
  int64_t step;
};
// The buckets of call_profile.h, band by band; each band's width is a multiple of its step.
constexpr std::array<Band, 5> kBands = {{{0, 120, 5},
                                         {120, 600, 15},
                                         {600, 1800, 60},
                                         {1800, 3600, 300},
                                         {3600, kLongestCallSeconds + 1, kLongestCallSeconds + 1 - 3600}}};

constexpr int buckets_before(size_t band) {
  int count = 0;
  for (size_t i = 0; i < band; ++i) count += static_cast<int>((kBands[i].below - kBands[i].from) / kBands[i].step);
  return count;
}
static_assert(buckets_before(kBands.size()) == kCallLengthBuckets, "the bands make kCallLengthBuckets buckets");

}  // namespace

std::optional<int> call_length_bucket(int64_t seconds) {
  if (seconds < 0 || seconds > kLongestCallSeconds) return std::nullopt;
  for (size_t band = 0; band < kBands.size(); ++band)
    if (seconds < kBands[band].below)
      return buckets_before(band) + static_cast<int>((seconds - kBands[band].from) / kBands[band].step);
  return std::nullopt;  // unreachable: the last band ends after kLongestCallSeconds
}

LengthRange call_length_range(int bucket) {
  for (size_t band = 0; band < kBands.size(); ++band) {
    const int first = buckets_before(band);
    const int count = buckets_before(band + 1) - first;
    if (bucket >= first && bucket < first + count) {
      const int64_t from = kBands[band].from + (bucket - first) * kBands[band].step;
      return {from, from + kBands[band].step};
    }
  }
  return {0, 0};
}

std::optional<LengthRange> median_length_range(const std::array<int64_t, kCallLengthBuckets>& counts) {
  int64_t total = 0;
  for (const int64_t count : counts) total += count > 0 ? count : 0;
  if (total == 0) return std::nullopt;
  const int64_t lower_rank = (total + 1) / 2;
  const int64_t upper_rank = total / 2 + 1;
  std::optional<int> lower_bucket, upper_bucket;
  int64_t seen = 0;
  for (int bucket = 0; bucket < kCallLengthBuckets && !upper_bucket; ++bucket) {
    seen += counts[bucket] > 0 ? counts[bucket] : 0;
    if (!lower_bucket && seen >= lower_rank) lower_bucket = bucket;
    if (seen >= upper_rank) upper_bucket = bucket;
  }
  return LengthRange{call_length_range(*lower_bucket).from, call_length_range(*upper_bucket).below};
}

}  // namespace billing

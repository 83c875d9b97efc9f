// The JSON plan config parser. nlohmann's SAX interface hands over every number together
// with its source text, so 0.15 is read as exactly 15/100 and never passes through a double.
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/plan.h"

namespace billing {
namespace {

class PlanConfigReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::optional<std::string> model;
  std::optional<std::string> currency;
  std::vector<PlanField> fields;

  bool null() override { return scalar(Kind::kNull, {}); }
  bool boolean(bool) override { return scalar(Kind::kOther, {}); }
  bool number_integer(number_integer_t value) override {
    return scalar(Kind::kNumber, std::to_string(value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    return scalar(Kind::kNumber, std::to_string(value));
  }
  bool number_float(number_float_t, const string_t& text) override {
    return scalar(Kind::kNumber, text);
  }
  bool string(string_t& value) override { return scalar(Kind::kString, value); }
  bool binary(binary_t&) override { return scalar(Kind::kOther, {}); }

  bool start_object(std::size_t) override {
    if (++depth_ > 1) throw nested();
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) throw not_an_object();
    throw nested();
  }
  bool end_array() override { return true; }
  bool key(string_t& name) override {
    key_ = name;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    if (error.id == kNumberOverflow)
      throw BillingError(sqlstate::kNumericValueOutOfRange,
                         "a number in the pricing plan is out of range");
    throw BillingError(sqlstate::kInvalidJsonText,
                       "malformed pricing plan JSON near byte " + std::to_string(position));
  }

 private:
  enum class Kind { kNull, kNumber, kString, kOther };
  static constexpr int kNumberOverflow = 406;  // nlohmann's out_of_range.406

  static BillingError nested() {
    return BillingError(sqlstate::kInvalidParameterValue,
                        "pricing plan values must be numbers or strings, not objects or arrays");
  }
  static BillingError not_an_object() {
    return BillingError(sqlstate::kInvalidParameterValue, "a pricing plan must be a JSON object");
  }

  bool scalar(Kind kind, const std::string& text) {
    if (depth_ == 0) throw not_an_object();
    if (key_ == "pricing_model" || key_ == "currency") {
      if (kind != Kind::kString)
        throw BillingError(sqlstate::kInvalidParameterValue, key_ + " must be a string");
      auto& slot = key_ == "pricing_model" ? model : currency;
      if (slot)
        throw BillingError(sqlstate::kInvalidParameterValue, key_ + " is given twice");
      slot = text;
      return true;
    }
    if (kind == Kind::kNull) return true;  // null means "not given"
    if (kind == Kind::kOther)
      throw BillingError(sqlstate::kInvalidParameterValue,
                         key_.substr(0, 64) + " must be a number");
    fields.emplace_back(key_, text);
    return true;
  }

  int depth_ = 0;
  std::string key_;
};

}  // namespace

PlanConfig parse_plan_config(std::string_view json_text) {
  PlanConfigReader reader;
  nlohmann::json::sax_parse(json_text.begin(), json_text.end(), &reader);
  if (!reader.model)
    throw BillingError(sqlstate::kInvalidParameterValue, "pricing plan has no pricing_model");
  PlanConfig config;
  config.plan = make_plan(*reader.model, reader.fields);
  if (reader.currency) config.currency = *reader.currency;
  return config;
}

}  // namespace billing

#include "core/json_writer.h"

#include <gtest/gtest.h>

namespace billing {
namespace {

TEST(JsonWriter, EscapesWhatJsonRequiresAndCopiesTheRest) {
  EXPECT_EQ(json_string(""), "\"\"");
  EXPECT_EQ(json_string("Praxis Dr. Müller"), "\"Praxis Dr. Müller\"");
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string("\n\r\t"), "\"\\n\\r\\t\"");
  EXPECT_EQ(json_string(std::string("x\x01y\x1f", 4)), "\"x\\u0001y\\u001f\"");
  EXPECT_EQ(json_string("\"leading and trailing\""), "\"\\\"leading and trailing\\\"\"");
}

TEST(JsonWriter, BuildsObjectsInMemberOrder) {
  EXPECT_EQ(json_object({}), "{}");
  EXPECT_EQ(json_object({{"b", "1"}, {"a\"", json_string("x")}, {"c", json_object({{"d", "null"}})}}),
            "{\"b\":1,\"a\\\"\":\"x\",\"c\":{\"d\":null}}");
}

}  // namespace
}  // namespace billing

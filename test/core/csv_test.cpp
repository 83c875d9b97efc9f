#include "core/csv.h"

#include <gtest/gtest.h>

namespace billing {
namespace {

TEST(Csv, PlainFieldsStayPlain) {
  EXPECT_EQ(csv_field("call-17"), "call-17");
  EXPECT_EQ(csv_field("687.5"), "687.5");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("Grüße"), "Grüße");
}

TEST(Csv, QuotesWhatRfc4180Requires) {
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\rhere"), "\"cr\rhere\"");
}

TEST(Csv, NeutralizesFormulas) {
  EXPECT_EQ(csv_field("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(csv_field("+49 30 1234"), "'+49 30 1234");
  EXPECT_EQ(csv_field("-2+3"), "'-2+3");
  EXPECT_EQ(csv_field("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(csv_field("\tx"), "'\tx");
  EXPECT_EQ(csv_field("\rx"), "\"'\rx\"");
  EXPECT_EQ(csv_field("a=b"), "a=b");
}

// A spreadsheet that guesses ';' or ',' as the separator, or splits lines, reads the text after
// it as a cell of its own: those pieces are neutralized too.
TEST(Csv, NeutralizesFormulasAfterSeparators) {
  EXPECT_EQ(csv_field("k;=1+1"), "k;'=1+1");
  EXPECT_EQ(csv_field("a,=HYPERLINK(1)"), "\"a,'=HYPERLINK(1)\"");
  EXPECT_EQ(csv_field("x\n@SUM(A1)"), "\"x\n'@SUM(A1)\"");
  EXPECT_EQ(csv_field("=1;-2"), "'=1;'-2");
  EXPECT_EQ(csv_field("2024-11-03 04:30"), "2024-11-03 04:30");  // a minus inside a piece is data
  EXPECT_EQ(csv_field("k; =1"), "k; =1");  // a spreadsheet reads " =1" as text
}

TEST(Csv, Records) {
  EXPECT_EQ(csv_record({std::string("a"), std::nullopt, std::string("c,d")}), "a,,\"c,d\"");
  EXPECT_EQ(csv_record({}), "");
  EXPECT_EQ(csv_record({std::nullopt}), "");
}

}  // namespace
}  // namespace billing

#include "aiops/base64.hpp"

#include <gtest/gtest.h>

TEST(Base64Test, RoundTripsAllLengthsAndRejectsGarbage) {
  EXPECT_EQ(aiops::Base64Encode("abc"), "YWJj");
  EXPECT_EQ(aiops::Base64Encode("ab"), "YWI=");
  EXPECT_EQ(aiops::Base64Encode("a"), "YQ==");
  EXPECT_EQ(aiops::Base64Encode(""), "");
  std::string bytes;
  for (int i = 0; i < 256; ++i)
    bytes.push_back(static_cast<char>(i));
  for (size_t n = 0; n < bytes.size(); n += 37) {
    auto s = bytes.substr(0, n);
    EXPECT_EQ(aiops::Base64Decode(aiops::Base64Encode(s)), s);
  }
  EXPECT_EQ(aiops::Base64Decode("Q0EtUEVN\n"), "CA-PEM");
  EXPECT_EQ(aiops::Base64Decode("not*base64"), std::nullopt);
}

// SHA-256 against the example vectors published with FIPS 180-4 (NIST CSRC
// "Examples with intermediate values") and its incremental interface.
#include <gtest/gtest.h>

#include <string>

#include "mlops/fingerprint.hpp"

namespace {

TEST(Sha256, ShortMessageOneBlock) {
  EXPECT_EQ(mlops::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, EmptyMessage) {
  EXPECT_EQ(mlops::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, TwoBlockMessage) {
  EXPECT_EQ(mlops::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, LongerTwoBlockMessage) {
  EXPECT_EQ(mlops::sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                              "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, OneMillionA) {
  EXPECT_EQ(mlops::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
  // 55 bytes fit the length in one block, 56 need a second block; 64 is exactly one.
  EXPECT_EQ(mlops::sha256_hex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(mlops::sha256_hex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(mlops::sha256_hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Sha256, IncrementalEqualsOneShotAtEverySplit) {
  std::string text;
  for (int i = 0; i < 200; ++i) text.push_back(static_cast<char>('a' + i % 26));
  const std::string expected = mlops::sha256_hex(text);
  for (std::size_t split = 0; split <= text.size(); split += 7) {
    mlops::Sha256 hasher;
    hasher.update(std::string_view(text).substr(0, split));
    hasher.update(std::string_view(text).substr(split));
    EXPECT_EQ(mlops::to_hex(hasher.finish()), expected) << "split at " << split;
  }
}

TEST(Sha256, ByteAtATime) {
  const std::string text(130, 'q');
  mlops::Sha256 hasher;
  for (char c : text) hasher.update(&c, 1);
  EXPECT_EQ(mlops::to_hex(hasher.finish()), mlops::sha256_hex(text));
}

}  // namespace

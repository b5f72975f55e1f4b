// SHA-256 against the example vectors published with FIPS 180-4 (NIST CSRC
// "Examples with intermediate values") and its incremental interface.
#include "sha256.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

// The FIPS 180-4 example messages and their digests, plus padding edge cases.
std::vector<std::pair<std::string, std::string>> known_vectors() {
  return {
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
      {std::string(1000000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
      {std::string(55, 'a'), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {std::string(56, 'a'), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {std::string(64, 'a'), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
  };
}

void expect_known_vectors(mlops::Sha256Backend backend) {
  for (const auto& [message, digest] : known_vectors()) {
    EXPECT_EQ(mlops::to_hex(mlops::sha256_with(backend, message)), digest)
        << "message of " << message.size() << " bytes";
  }
}

TEST(Sha256Backends, PortableMatchesKnownVectors) {
  ASSERT_TRUE(mlops::sha256_backend_supported(mlops::Sha256Backend::portable));
  expect_known_vectors(mlops::Sha256Backend::portable);
}

TEST(Sha256Backends, ShaExtensionsMatchKnownVectors) {
  if (!mlops::sha256_backend_supported(mlops::Sha256Backend::sha_ni)) {
    GTEST_SKIP() << "this CPU has no SHA extensions";
  }
  expect_known_vectors(mlops::Sha256Backend::sha_ni);
}

TEST(Sha256Backends, ActiveBackendIsTheFastestSupported) {
  const bool ni = mlops::sha256_backend_supported(mlops::Sha256Backend::sha_ni);
  EXPECT_EQ(mlops::sha256_active_backend(),
            ni ? mlops::Sha256Backend::sha_ni : mlops::Sha256Backend::portable);
}

TEST(Sha256Backends, RandomInputsAgreeAcrossBackendsAndSplits) {
  const bool ni = mlops::sha256_backend_supported(mlops::Sha256Backend::sha_ni);
  std::mt19937 rng(20261123);
  std::string data;
  for (int round = 0; round < 600; ++round) {
    // Every length up to 300 bytes (all padding cases), then some multi-block ones.
    const std::size_t size = round < 300 ? static_cast<std::size_t>(round) : rng() % 5000;
    data.resize(size);
    for (char& c : data) c = static_cast<char>(rng() & 0xff);
    const mlops::Digest portable = mlops::sha256_with(mlops::Sha256Backend::portable, data);
    if (ni) {
      EXPECT_EQ(mlops::sha256_with(mlops::Sha256Backend::sha_ni, data), portable)
          << "size " << size;
    }
    EXPECT_EQ(mlops::sha256(data), portable) << "size " << size;
    // The incremental interface (active backend) over random pieces.
    mlops::Sha256 hasher;
    for (std::size_t at = 0; at < size;) {
      const std::size_t piece = std::min<std::size_t>(size - at, rng() % 150);
      hasher.update(data.data() + at, piece);
      at += piece;
    }
    EXPECT_EQ(hasher.finish(), portable) << "size " << size;
  }
}

TEST(Sha256Backends, PaddedInPlaceOneAndTwoAtOnce) {
  // The in-place forms used by fingerprints, including two messages of
  // different lengths hashed together.
  std::mt19937 rng(7);
  for (int round = 0; round < 400; ++round) {
    const std::size_t size_a = round < 200 ? static_cast<std::size_t>(round) : rng() % 1000;
    const std::size_t size_b = rng() % 300;
    std::vector<std::uint8_t> a(size_a + mlops::detail::kSha256PaddingRoom);
    std::vector<std::uint8_t> b(size_b + mlops::detail::kSha256PaddingRoom);
    for (std::size_t i = 0; i < size_a; ++i) a[i] = static_cast<std::uint8_t>(rng());
    for (std::size_t i = 0; i < size_b; ++i) b[i] = static_cast<std::uint8_t>(rng());
    const auto text = [](const std::vector<std::uint8_t>& v, std::size_t size) {
      return std::string(v.begin(), v.begin() + static_cast<long>(size));
    };
    const mlops::Digest expected_a =
        mlops::sha256_with(mlops::Sha256Backend::portable, text(a, size_a));
    const mlops::Digest expected_b =
        mlops::sha256_with(mlops::Sha256Backend::portable, text(b, size_b));
    mlops::Digest got_a;
    mlops::Digest got_b;
    mlops::detail::sha256_padded_x2(a.data(), size_a, got_a, b.data(), size_b, got_b);
    EXPECT_EQ(got_a, expected_a) << size_a << " and " << size_b;
    EXPECT_EQ(got_b, expected_b) << size_a << " and " << size_b;
    EXPECT_EQ(mlops::detail::sha256_padded(a.data(), size_a), expected_a) << size_a;
  }
}

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

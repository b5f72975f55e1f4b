// SHA-256 (FIPS 180-4), private to the engine: the fingerprints are built on
// it, but callers see only keys (fingerprint.hpp). The x86 SHA extensions are
// used when the CPU has them, portable C++ otherwise.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlops/fingerprint.hpp"

namespace mlops {

// Incremental SHA-256 (FIPS 180-4): update() any number of times, then finish() once.
class Sha256 {
 public:
  Sha256() noexcept;
  void update(const void* data, std::size_t size) noexcept;
  void update(std::string_view data) noexcept { update(data.data(), data.size()); }
  Digest finish() noexcept;

 private:
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> block_{};
  std::size_t used_ = 0;     // bytes waiting in block_
  std::uint64_t total_ = 0;  // bytes hashed so far
};

Digest sha256(std::string_view data) noexcept;

// SHA-256 implementations. sha256(), sha256_hex() and Sha256 use the fastest
// one the CPU supports, chosen once at run time: the x86 SHA extensions when
// present, else portable C++. The choice is visible for tests and benchmarks.
enum class Sha256Backend : std::uint8_t { portable, sha_ni };
bool sha256_backend_supported(Sha256Backend backend) noexcept;
Sha256Backend sha256_active_backend() noexcept;
// One-shot SHA-256 with a given backend, which must be supported.
Digest sha256_with(Sha256Backend backend, std::string_view data) noexcept;

namespace detail {
// The compression function over `blocks` consecutive 64-byte blocks; state
// holds the eight hash words H0..H7.
void sha256_blocks_portable(std::uint32_t* state, const std::uint8_t* data,
                            std::size_t blocks) noexcept;
void sha256_blocks_shani(std::uint32_t* state, const std::uint8_t* data,
                         std::size_t blocks) noexcept;  // only when supported
bool sha256_shani_supported() noexcept;
// SHA-256 of the `size` bytes at `data` (active backend), padding them in
// place: the kSha256PaddingRoom bytes after them must be writable.
inline constexpr std::size_t kSha256PaddingRoom = 72;
Digest sha256_padded(std::uint8_t* data, std::size_t size) noexcept;
// Two such messages at once (faster with the SHA extensions, which then work
// on both in parallel).
void sha256_padded_x2(std::uint8_t* data_a, std::size_t size_a, Digest& digest_a,
                      std::uint8_t* data_b, std::size_t size_b, Digest& digest_b) noexcept;
// The SHA-extension compression of two equally long runs of blocks at once.
void sha256_blocks_shani_x2(std::uint32_t* state_a, const std::uint8_t* data_a,
                            std::uint32_t* state_b, const std::uint8_t* data_b,
                            std::size_t blocks) noexcept;  // only when supported
}  // namespace detail

}  // namespace mlops

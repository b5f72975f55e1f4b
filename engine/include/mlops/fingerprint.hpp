// Fingerprints and the run plan.
//
// A node's key is SHA-256 over its code hash, the (name, value digest) of each
// parameter it reads, and the keys of its inputs; an input's key is SHA-256
// over its producer's key and the dataset name. Equal keys mean "the same code
// on the same inputs", so a stored output under that key can be reused.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mlops/graph.hpp"

namespace mlops {

// SHA-256 of `data`, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

// A raw SHA-256 digest; the compact form of a key for large graphs.
using Digest = std::array<std::uint8_t, 32>;

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
std::string to_hex(const Digest& digest);

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

struct FingerprintInput {
  std::vector<std::string> code_hashes;  // one per node id; concept steps pass ""
  std::unordered_map<std::string, std::string>
      param_digests;  // parameter name -> digest of its value
};

struct Fingerprints {
  std::vector<std::string> node_keys;                // per node id, 64 hex digits
  std::vector<std::vector<std::string>> input_keys;  // per node id, aligned with Graph::inputs(id)
};

// Throws PipelineError naming the node and parameter when a node reads a
// parameter that has no digest. Releases no locks; pure function.
Fingerprints fingerprint(const Graph& graph, const FingerprintInput& input);

// What a run records per node, built without a Python object per input:
// the key as hex, its first 8 bytes as a signed big-endian integer (what the
// task table indexes: a short random key costs far less to keep in a B-tree
// than 64 hex digits), and the {dataset: key} object of its inputs as JSON
// text (each dataset once, in graph.inputs order).
struct FingerprintRecords {
  std::vector<std::string> node_keys;
  std::vector<std::int64_t> key_prefixes;
  std::vector<std::string> input_keys_json;
};
FingerprintRecords fingerprint_records(const Graph& graph, const FingerprintInput& input);

// The signed integer of the first 16 hex digits of a key (what FingerprintRecords
// holds as key_prefixes); throws std::invalid_argument for a key that is not hex.
std::int64_t key_prefix(std::string_view hex_key);

// `text` as a JSON string literal, quotes included (control characters, quote
// and backslash escaped; other UTF-8 passed through).
std::string json_quote(std::string_view text);

// The same keys as raw digests, for graphs too large to hold every key as a
// string: node keys per node id, and per dataset id the key its readers see
// (an input key; all zero for a dataset nobody produces, which validate() rejects).
struct FingerprintDigests {
  std::vector<Digest> node_keys;
  std::vector<Digest> dataset_keys;
};
FingerprintDigests fingerprint_digests(const Graph& graph, const FingerprintInput& input);

enum class Action : std::uint8_t {
  run,          // execute the node's function
  reuse,        // take its stored outputs (a cache hit, or needed from outside the selection)
  skip,         // outside the selection and not needed
  not_started,  // a concept step, or downstream of one
};

enum class Reason : std::uint8_t {
  not_stored,         // run: no stored outputs under its key (new, or code/params/inputs changed)
  forced,             // run: caching turned off for this run (--no-cache)
  not_cacheable,      // run: the node has cache=False
  cached,             // reuse: selected, and its outputs are stored under its key
  outside_selection,  // reuse: not selected, but a running node needs its outputs
  not_needed,         // skip
  concept_step,  // not_started: a concept step (Python: Reason.concept; "concept" is a C++ keyword)
  upstream_concept,  // not_started: downstream of a concept step
};

struct PlanInput {
  std::vector<std::string> node_keys;      // from fingerprint()
  std::unordered_set<std::string> stored;  // keys whose outputs are all in the store
  std::vector<bool> cacheable;             // per node id; empty means all cacheable
  Selection selection;                     // empty: every node
  bool force = false;                      // --no-cache
};

struct Plan {
  std::vector<Action> actions;  // per node id
  std::vector<Reason> reasons;  // per node id
  std::vector<NodeId> to_run;   // nodes with Action::run, topological order
};

// Throws SelectionError when a node that must run needs an output from a node
// outside the selection (or from a concept step) that is not stored, naming
// the node, the dataset and its producer.
Plan plan(const Graph& graph, const PlanInput& input);

// The same rules given, per node id, whether its key is stored (for callers
// holding keys as digests). `cacheable` empty means all cacheable.
Plan plan_stored(const Graph& graph, const std::vector<bool>& stored,
                 const std::vector<bool>& cacheable, const Selection& selection, bool force);

}  // namespace mlops

// Fingerprints: the key of every node.
//
// A node's key is SHA-256 over its code hash, the (name, value digest) of each
// parameter it reads, and the keys of its inputs; an input's key is SHA-256
// over its producer's key and the dataset name. Equal keys mean "the same code
// on the same inputs", so a stored output under that key can be reused. How
// keys are stored (and indexed) is the caller's business: the engine returns
// keys, never storage texts.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlops/graph.hpp"

namespace mlops {

// SHA-256 of `data`, as 64 lowercase hex digits: what keys are made of, for
// callers that digest values the same way (e.g. parameter values).
std::string sha256_hex(std::string_view data);

// A raw SHA-256 digest; the compact form of a key for large graphs.
using Digest = std::array<std::uint8_t, 32>;
// 64 lowercase hex digits.
std::string to_hex(const Digest& digest);

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
// parameter that has no digest. A pure function of the graph and the input.
Fingerprints fingerprint(const Graph& graph, const FingerprintInput& input);
// The node keys only (per node id, 64 hex digits); same errors as fingerprint().
std::vector<std::string> fingerprint_keys(const Graph& graph, const FingerprintInput& input);

// The same keys as raw digests, for graphs too large to hold every key as a
// string: node keys per node id, and per dataset id the key its readers see
// (an input key; all zero for a dataset nobody produces, which validate() rejects).
struct FingerprintDigests {
  std::vector<Digest> node_keys;
  std::vector<Digest> dataset_keys;
};
FingerprintDigests fingerprint_digests(const Graph& graph, const FingerprintInput& input);

}  // namespace mlops

// Fingerprints and the run plan.
//
// A node's key is SHA-256 over its code hash, the (name, value digest) of each
// parameter it reads, and the keys of its inputs; an input's key is SHA-256
// over its producer's key and the dataset name. Equal keys mean "the same code
// on the same inputs", so a stored output under that key can be reused.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mlops/graph.hpp"

namespace mlops {

// SHA-256 of `data`, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

struct FingerprintInput {
  std::vector<std::string> code_hashes;  // one per node id; concept steps pass ""
  std::unordered_map<std::string, std::string> param_digests;  // parameter name -> digest of its value
};

struct Fingerprints {
  std::vector<std::string> node_keys;                // per node id, 64 hex digits
  std::vector<std::vector<std::string>> input_keys;  // per node id, aligned with Graph::inputs(id)
};

// Throws PipelineError naming the node and parameter when a node reads a
// parameter that has no digest. Releases no locks; pure function.
Fingerprints fingerprint(const Graph& graph, const FingerprintInput& input);

enum class Action : std::uint8_t {
  run,          // execute the node's function
  reuse,        // take its stored outputs (a cache hit, or needed from outside the selection)
  skip,         // outside the selection and not needed
  not_started,  // a concept step, or downstream of one
};

enum class Reason : std::uint8_t {
  not_stored,          // run: no stored outputs under its key (new, or code/params/inputs changed)
  forced,              // run: caching turned off for this run (--no-cache)
  not_cacheable,       // run: the node has cache=False
  cached,              // reuse: selected, and its outputs are stored under its key
  outside_selection,   // reuse: not selected, but a running node needs its outputs
  not_needed,          // skip
  concept,             // not_started: a concept step
  upstream_concept,    // not_started: downstream of a concept step
};

struct PlanInput {
  std::vector<std::string> node_keys;         // from fingerprint()
  std::unordered_set<std::string> stored;     // keys whose outputs are all in the store
  std::vector<bool> cacheable;                // per node id; empty means all cacheable
  Selection selection;                        // empty: every node
  bool force = false;                         // --no-cache
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

}  // namespace mlops

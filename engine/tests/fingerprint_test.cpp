// Unit tests of fingerprint() and plan(): what changes a key, each plan rule, the names.
#include "mlops/fingerprint.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "mlops/errors.hpp"
#include "mlops/plan.hpp"
#include "sha256.hpp"

namespace {

using mlops::Action;
using mlops::Graph;
using mlops::NodeId;
using mlops::NodeSpec;
using mlops::Reason;
using Names = std::vector<std::string>;

NodeSpec node(std::string name, Names inputs, Names outputs, bool concept_step = false) {
  NodeSpec spec;
  spec.name = std::move(name);
  spec.inputs = std::move(inputs);
  spec.outputs = std::move(outputs);
  spec.is_concept = concept_step;
  return spec;
}

// load -> split -> fit -> evaluate, and the concept step explain after fit.
Graph iris() {
  Graph g;
  g.add_node(node("load", {}, {"frame"}));
  g.add_node(node("split", {"frame", "params:test_size"}, {"train", "test"}));
  g.add_node(node("fit", {"train", "params:C"}, {"model"}));
  g.add_node(node("evaluate", {"model", "test"}, {"scores"}));
  g.add_node(node("explain", {"model", "test"}, {"report"}, true));
  return g;
}

mlops::FingerprintInput iris_input() {
  return {{"h-load", "h-split", "h-fit", "h-eval", ""}, {{"test_size", "t1"}, {"C", "c1"}}};
}

TEST(Fingerprint, KeysAreHexAndInputKeysAlign) {
  const Graph g = iris();
  const mlops::Fingerprints keys = mlops::fingerprint(g, iris_input());
  ASSERT_EQ(keys.node_keys.size(), 5u);
  for (const std::string& key : keys.node_keys) {
    EXPECT_EQ(key.size(), 64u);
    EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos);
  }
  EXPECT_EQ(keys.input_keys[0].size(), 0u);
  EXPECT_EQ(keys.input_keys[3].size(), 2u);  // model, test
  // An input key is the hash of its producer's key and the dataset name.
  mlops::Sha256 h;
  const mlops::FingerprintDigests raw = mlops::fingerprint_digests(g, iris_input());
  h.update(raw.node_keys[2].data(), raw.node_keys[2].size());
  h.update("model");
  EXPECT_EQ(keys.input_keys[3][0], mlops::to_hex(h.finish()));
  // evaluate and explain read the same datasets, so see the same input keys.
  EXPECT_EQ(keys.input_keys[3], keys.input_keys[4]);
}

TEST(Fingerprint, KeysAreTheNodeKeysOnly) {
  const Graph g = iris();
  EXPECT_EQ(mlops::fingerprint_keys(g, iris_input()),
            mlops::fingerprint(g, iris_input()).node_keys);
  mlops::FingerprintInput missing = iris_input();
  missing.param_digests.erase("C");
  EXPECT_THROW(mlops::fingerprint_keys(g, missing), mlops::PipelineError);
}

TEST(Plan, EveryActionReasonAndStateHasItsName) {
  EXPECT_STREQ(mlops::to_string(Action::not_started), "not_started");
  EXPECT_STREQ(mlops::to_string(Reason::concept_step), "concept");
  EXPECT_STREQ(mlops::to_string(Reason::upstream_concept), "upstream_concept");
  EXPECT_STREQ(mlops::to_string(static_cast<Action>(mlops::kActionCount)), "unknown");
  EXPECT_STREQ(mlops::to_string(static_cast<Reason>(mlops::kReasonCount)), "unknown");
  EXPECT_EQ(mlops::initial_state(Action::reuse), mlops::NodeState::cached);
}

TEST(Fingerprint, IsDeterministic) {
  const Graph g = iris();
  EXPECT_EQ(mlops::fingerprint(g, iris_input()).node_keys,
            mlops::fingerprint(g, iris_input()).node_keys);
}

TEST(Fingerprint, KeysMatchTheDocumentedEncoding) {
  // Expected values computed independently (Python hashlib) from the encoding
  // in fingerprint.cpp: stored keys must never change with an optimisation.
  Graph g;
  g.add_node(node("a", {}, {"x"}));
  g.add_node(node("b", {"x", "params:p"}, {"y"}));
  const mlops::Fingerprints keys = mlops::fingerprint(g, {{"abc", "def"}, {{"p", "123"}}});
  EXPECT_EQ(keys.node_keys[0], "90ff1feceb1634d7d7d3fcf614e23860085d5e8da04504ba29a01ce5c4a6c7ee");
  EXPECT_EQ(keys.input_keys[1],
            Names{"f590bc03732a5141e91a2ba4591affa068cc8b4db31f4f76424f7fb9ff0b435e"});
  EXPECT_EQ(keys.node_keys[1], "3519d521d9212e98e244b249f439ec700cfa3671010baa441669959e4476e2ea");
}

TEST(Fingerprint, KeysDoNotDependOnDeclarationOrder) {
  // Declared in reverse (readers before producers) and in topological order.
  const std::vector<NodeSpec> specs = {
      node("load", {}, {"frame"}),
      node("split", {"frame", "params:test_size"}, {"train", "test"}),
      node("fit", {"train", "params:C"}, {"model"}),
      node("evaluate", {"model", "test"}, {"scores"}),
  };
  const Names code = {"h-load", "h-split", "h-fit", "h-eval"};
  const std::unordered_map<std::string, std::string> params = {{"test_size", "t1"}, {"C", "c1"}};
  Graph forward;
  Graph reverse;
  for (const NodeSpec& spec : specs) forward.add_node(spec);
  for (std::size_t i = specs.size(); i-- > 0;) reverse.add_node(specs[i]);
  const auto forward_keys = mlops::fingerprint(forward, {code, params});
  const auto reverse_keys =
      mlops::fingerprint(reverse, {Names(code.rbegin(), code.rend()), params});
  for (NodeId v = 0; v < specs.size(); ++v) {
    const NodeId r = reverse.node_id(forward.node_name(v));
    EXPECT_EQ(forward_keys.node_keys[v], reverse_keys.node_keys[r]) << forward.node_name(v);
    EXPECT_EQ(forward_keys.input_keys[v], reverse_keys.input_keys[r]) << forward.node_name(v);
  }
  // The plan lists nodes to run in the graph's topological order either way.
  const mlops::Plan plan = mlops::plan_stored(reverse, std::vector<bool>(4, false), {}, {}, false);
  EXPECT_EQ(plan.to_run, reverse.topological_order());
  EXPECT_EQ(mlops::plan_stored(forward, std::vector<bool>(4, false), {}, {}, false).to_run,
            (std::vector<NodeId>{0, 1, 2, 3}));
}

TEST(Fingerprint, CodeChangeReachesTheNodeAndItsDescendantsOnly) {
  const Graph g = iris();
  const auto before = mlops::fingerprint(g, iris_input()).node_keys;
  auto input = iris_input();
  input.code_hashes[2] = "h-fit-2";
  const auto after = mlops::fingerprint(g, input).node_keys;
  EXPECT_EQ(before[0], after[0]);
  EXPECT_EQ(before[1], after[1]);
  EXPECT_NE(before[2], after[2]);
  EXPECT_NE(before[3], after[3]);
  EXPECT_NE(before[4], after[4]);
}

TEST(Fingerprint, ParamChangeReachesItsReadersOnly) {
  const Graph g = iris();
  const auto before = mlops::fingerprint(g, iris_input()).node_keys;
  auto input = iris_input();
  input.param_digests["C"] = "c2";
  input.param_digests["unused"] = "u";  // params nobody reads change nothing
  const auto after = mlops::fingerprint(g, input).node_keys;
  EXPECT_EQ(before[0], after[0]);
  EXPECT_EQ(before[1], after[1]);
  EXPECT_NE(before[2], after[2]);
  EXPECT_NE(before[3], after[3]);
}

TEST(Fingerprint, FieldsAreUnambiguous) {
  // Moving a character between code hash and param digest must change the key.
  Graph g;
  g.add_node(node("a", {"params:p"}, {"x"}));
  const auto one = mlops::fingerprint(g, {{"ab"}, {{"p", "c"}}}).node_keys[0];
  const auto two = mlops::fingerprint(g, {{"a"}, {{"p", "bc"}}}).node_keys[0];
  EXPECT_NE(one, two);
}

TEST(Fingerprint, MissingParamNamesNodeAndParam) {
  const Graph g = iris();
  auto input = iris_input();
  input.param_digests.erase("C");
  try {
    mlops::fingerprint(g, input);
    FAIL() << "expected PipelineError";
  } catch (const mlops::PipelineError& e) {
    EXPECT_STREQ(e.what(), "node 'fit' reads parameter 'C', which has no value");
  }
}

TEST(Fingerprint, MissingInputAndWrongSize) {
  Graph g;
  g.add_node(node("fit", {"train"}, {"model"}));
  EXPECT_THROW(mlops::fingerprint(g, {{"h"}, {}}), mlops::MissingInputError);
  EXPECT_THROW(mlops::fingerprint(g, {{}, {}}), std::invalid_argument);
}

struct Planned {
  std::vector<Action> actions;
  std::vector<Reason> reasons;
};

mlops::PlanInput plan_input(const Graph& g, const std::vector<NodeId>& stored_nodes) {
  mlops::PlanInput input;
  input.node_keys = mlops::fingerprint(g, iris_input()).node_keys;
  for (NodeId v : stored_nodes) input.stored.insert(input.node_keys[v]);
  return input;
}

TEST(Plan, NothingStoredRunsEverythingButTheConcept) {
  const Graph g = iris();
  const mlops::Plan p = mlops::plan(g, plan_input(g, {}));
  EXPECT_EQ(p.actions, (std::vector<Action>{Action::run, Action::run, Action::run, Action::run,
                                            Action::not_started}));
  EXPECT_EQ(p.reasons,
            (std::vector<Reason>{Reason::not_stored, Reason::not_stored, Reason::not_stored,
                                 Reason::not_stored, Reason::concept_step}));
  EXPECT_EQ(p.to_run, (std::vector<NodeId>{0, 1, 2, 3}));
}

TEST(Plan, StoredNodesAreReusedUnlessForcedOrNotCacheable) {
  const Graph g = iris();
  auto input = plan_input(g, {0, 1, 2});
  input.cacheable = {true, false, true, true, true};
  mlops::Plan p = mlops::plan(g, input);
  EXPECT_EQ(p.actions[0], Action::reuse);
  EXPECT_EQ(p.reasons[0], Reason::cached);
  EXPECT_EQ(p.actions[1], Action::run);
  EXPECT_EQ(p.reasons[1], Reason::not_cacheable);
  EXPECT_EQ(p.reasons[2], Reason::cached);
  EXPECT_EQ(p.reasons[3], Reason::not_stored);
  input.force = true;
  p = mlops::plan(g, input);
  EXPECT_EQ(p.reasons[0], Reason::forced);
  EXPECT_EQ(p.reasons[1], Reason::not_cacheable);
  EXPECT_EQ(p.to_run, (std::vector<NodeId>{0, 1, 2, 3}));
}

TEST(Plan, ConceptBlocksItsSelectedDescendants) {
  Graph g = iris();
  g.add_node(node("publish", {"report", "scores"}, {"site"}));
  mlops::PlanInput input;
  auto fp = iris_input();
  fp.code_hashes.push_back("h-pub");
  input.node_keys = mlops::fingerprint(g, fp).node_keys;
  const mlops::Plan p = mlops::plan(g, input);
  EXPECT_EQ(p.actions[4], Action::not_started);
  EXPECT_EQ(p.reasons[4], Reason::concept_step);
  EXPECT_EQ(p.actions[5], Action::not_started);
  EXPECT_EQ(p.reasons[5], Reason::upstream_concept);
}

TEST(Plan, UnselectedProducersAreReusedOrSkipped) {
  const Graph g = iris();
  auto input = plan_input(g, {0, 1});
  input.selection.only = {"fit"};
  const mlops::Plan p = mlops::plan(g, input);
  EXPECT_EQ(p.actions, (std::vector<Action>{Action::skip, Action::reuse, Action::run, Action::skip,
                                            Action::skip}));
  EXPECT_EQ(p.reasons,
            (std::vector<Reason>{Reason::not_needed, Reason::outside_selection, Reason::not_stored,
                                 Reason::not_needed, Reason::not_needed}));
  EXPECT_EQ(p.to_run, (std::vector<NodeId>{2}));
}

TEST(Plan, UnselectedProducerNotStoredIsASelectionError) {
  const Graph g = iris();
  auto input = plan_input(g, {0});
  input.selection.from = {"fit"};
  try {
    mlops::plan(g, input);
    FAIL() << "expected SelectionError";
  } catch (const mlops::SelectionError& e) {
    EXPECT_STREQ(e.what(),
                 "node 'fit' needs dataset 'train' from node 'split', which is outside the "
                 "selection and not stored");
  }
}

TEST(Plan, NeededConceptOutsideSelectionIsASelectionError) {
  Graph g = iris();
  g.add_node(node("publish", {"report"}, {"site"}));
  auto fp = iris_input();
  fp.code_hashes.push_back("h-pub");
  mlops::PlanInput input;
  input.node_keys = mlops::fingerprint(g, fp).node_keys;
  input.stored.insert(input.node_keys[4]);  // even stored, a concept step has no outputs
  input.selection.only = {"publish"};
  try {
    mlops::plan(g, input);
    FAIL() << "expected SelectionError";
  } catch (const mlops::SelectionError& e) {
    EXPECT_STREQ(e.what(),
                 "node 'publish' needs dataset 'report' from concept step 'explain', which "
                 "is outside the selection and has no code");
  }
}

TEST(Plan, CachedSelectedNodesNeedNothingUpstream) {
  const Graph g = iris();
  auto input = plan_input(g, {2, 3});
  input.selection.from = {"fit"};
  const mlops::Plan p = mlops::plan(g, input);
  EXPECT_EQ(p.actions[1], Action::skip);  // fit is cached: split's outputs are not needed
  EXPECT_EQ(p.actions[2], Action::reuse);
  EXPECT_TRUE(p.to_run.empty());
}

TEST(Plan, BadSizesAndSelections) {
  const Graph g = iris();
  mlops::PlanInput input;
  EXPECT_THROW(mlops::plan(g, input), std::invalid_argument);
  input = plan_input(g, {});
  input.selection.tags = {"nope"};
  EXPECT_THROW(mlops::plan(g, input), mlops::SelectionError);
}

}  // namespace

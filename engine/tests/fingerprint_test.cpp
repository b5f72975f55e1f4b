// Unit tests of fingerprint() and plan(): what changes a key, and each plan rule.
#include "mlops/fingerprint.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mlops/errors.hpp"

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

TEST(Fingerprint, IsDeterministic) {
  const Graph g = iris();
  EXPECT_EQ(mlops::fingerprint(g, iris_input()).node_keys,
            mlops::fingerprint(g, iris_input()).node_keys);
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

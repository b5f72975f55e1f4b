// Unit tests of mlops::Graph: building, every error message, accessors,
// orderings, selection and paths.
#include "mlops/graph.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mlops/errors.hpp"

namespace {

using mlops::Graph;
using mlops::NodeId;
using mlops::NodeSpec;
using Names = std::vector<std::string>;
using Ids = std::vector<NodeId>;

NodeSpec node(std::string name, Names inputs, Names outputs, Names tags = {}) {
  NodeSpec spec;
  spec.name = std::move(name);
  spec.inputs = std::move(inputs);
  spec.outputs = std::move(outputs);
  spec.tags = std::move(tags);
  return spec;
}

// The iris pipeline of PRODUCT.md, with the concept step.
Graph iris() {
  Graph g;
  g.add_node(node("load", {}, {"frame"}));
  g.add_node(
      node("split", {"frame", "params:test_size", "params:seed"}, {"train", "test"}, {"prep"}));
  g.add_node(node("fit", {"train", "params:C"}, {"model"}, {"train"}));
  g.add_node(node("evaluate", {"model", "test"}, {"scores"}));
  NodeSpec explain = node("explain", {"model", "test"}, {"report"});
  explain.is_concept = true;
  explain.cost = 5.0;
  g.add_node(explain);
  return g;
}

// Built with += because GCC 12 warns falsely (-Wrestrict) on "n" + std::string.
std::string indexed(char prefix, int i) {
  std::string name(1, prefix);
  name += std::to_string(i);
  return name;
}

mlops::Selection pick(Names only, Names from = {}, Names to = {}, Names tags = {}) {
  mlops::Selection s;
  s.only = std::move(only);
  s.from = std::move(from);
  s.to = std::move(to);
  s.tags = std::move(tags);
  return s;
}

template <typename Error, typename F>
Error capture(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an exception";
  throw std::logic_error("no exception");
}

TEST(Graph, CountsAndAccessors) {
  const Graph g = iris();
  EXPECT_EQ(g.node_count(), 5u);
  EXPECT_EQ(g.dataset_count(), 6u);
  EXPECT_EQ(g.edge_count(), 6u);
  EXPECT_EQ(g.node_name(2), "fit");
  EXPECT_EQ(g.node_id("evaluate"), 3u);
  EXPECT_EQ(g.find_node("nope"), std::nullopt);
  const auto model = g.find_dataset("model");
  ASSERT_TRUE(model.has_value());
  EXPECT_EQ(g.dataset_name(*model), "model");
  EXPECT_EQ(g.producer(*model), 2u);
  EXPECT_EQ(Ids(g.consumers(*model).begin(), g.consumers(*model).end()), (Ids{3, 4}));
  EXPECT_EQ(g.params(1), (Names{"test_size", "seed"}));
  EXPECT_EQ(g.tags(1), (Names{"prep"}));
  EXPECT_EQ(g.inputs(1).size(), 1u);
  EXPECT_EQ(g.outputs(1).size(), 2u);
  EXPECT_TRUE(g.is_concept(4));
  EXPECT_FALSE(g.is_concept(3));
  EXPECT_DOUBLE_EQ(g.cost(4), 5.0);
  EXPECT_EQ(g.parents(3), (Ids{1, 2}));
  EXPECT_EQ(g.children(1), (Ids{2, 3, 4}));
  EXPECT_THROW(g.node_name(9), std::out_of_range);
  EXPECT_THROW(g.inputs(5), std::out_of_range);
}

TEST(Graph, UnknownNodeIdIsASelectionError) {
  const Graph g = iris();
  const auto e = capture<mlops::SelectionError>([&] { g.node_id("predict"); });
  EXPECT_STREQ(e.what(), "unknown node 'predict'");
}

TEST(Graph, ReusedNameIsRejectedAndGraphUnchanged) {
  Graph g = iris();
  const auto e = capture<mlops::DuplicateNodeError>([&] { g.add_node(node("fit", {}, {"x"})); });
  EXPECT_STREQ(e.what(), "node name 'fit' is used twice");
  EXPECT_EQ(e.node(), "fit");
  EXPECT_EQ(g.node_count(), 5u);
  EXPECT_FALSE(g.find_dataset("x").has_value());
}

TEST(Graph, SecondProducerIsRejected) {
  Graph g = iris();
  const auto e =
      capture<mlops::DuplicateOutputError>([&] { g.add_node(node("refit", {}, {"model"})); });
  EXPECT_STREQ(e.what(), "dataset 'model' is produced by both 'fit' and 'refit'");
  EXPECT_EQ(e.dataset(), "model");
  EXPECT_EQ(e.producers(), (Names{"fit", "refit"}));
  EXPECT_EQ(g.node_count(), 5u);
}

TEST(Graph, SameOutputTwiceInOneNodeIsRejected) {
  Graph g;
  const auto e = capture<mlops::DuplicateOutputError>([&] {
    g.add_node(node("a", {}, {"x", "x"}));
  });
  EXPECT_STREQ(e.what(), "dataset 'x' is produced by both 'a' and 'a'");
}

TEST(Graph, CycleIsReportedAsThePath) {
  Graph g;
  g.add_node(node("a", {"z"}, {"x"}));
  g.add_node(node("b", {"x"}, {"y"}));
  const auto e = capture<mlops::CycleError>([&] { g.add_node(node("c", {"y"}, {"z"})); });
  EXPECT_STREQ(e.what(), "cycle: a -> b -> c -> a");
  EXPECT_EQ(e.cycle(), (Names{"a", "b", "c", "a"}));
  EXPECT_EQ(g.node_count(), 2u);
  EXPECT_EQ(g.edge_count(), 1u);
  // The graph still works: the missing producer of z can be added.
  g.add_node(node("c", {}, {"z"}));
  EXPECT_EQ(g.topological_order(), (Ids{2, 0, 1}));
}

TEST(Graph, SelfLoopIsACycle) {
  Graph g;
  const auto e = capture<mlops::CycleError>([&] { g.add_node(node("a", {"x"}, {"x"})); });
  EXPECT_STREQ(e.what(), "cycle: a -> a");
  EXPECT_EQ(e.cycle(), (Names{"a", "a"}));
}

TEST(Graph, TwoNodeCycle) {
  Graph g;
  g.add_node(node("a", {"y"}, {"x"}));
  const auto e = capture<mlops::CycleError>([&] { g.add_node(node("b", {"x"}, {"y"})); });
  EXPECT_EQ(e.cycle(), (Names{"a", "b", "a"}));
}

TEST(Graph, InvalidNamesAreRejected) {
  Graph g;
  EXPECT_THROW(g.add_node(node("", {}, {"x"})), mlops::PipelineError);
  EXPECT_THROW(g.add_node(node("a", {}, {"params:x"})), mlops::PipelineError);
  EXPECT_THROW(g.add_node(node("a", {""}, {"x"})), mlops::PipelineError);
  EXPECT_EQ(g.node_count(), 0u);
}

TEST(Graph, ValidateNamesEveryMissingInput) {
  Graph g;
  g.add_node(node("fit", {"train", "params:C"}, {"model"}));
  g.add_node(node("evaluate", {"model", "test"}, {"scores"}));
  const auto e = capture<mlops::MissingInputError>([&] { g.validate(); });
  EXPECT_STREQ(e.what(),
               "node 'fit' needs input 'train', which no node produces; "
               "node 'evaluate' needs input 'test', which no node produces");
  EXPECT_EQ(e.node(), "fit");
  EXPECT_EQ(e.dataset(), "train");
  g.add_node(node("split", {}, {"train", "test"}));
  EXPECT_NO_THROW(g.validate());
}

TEST(Graph, SingleMissingInputMessage) {
  Graph g;
  g.add_node(node("fit", {"train"}, {"model"}));
  const auto e = capture<mlops::MissingInputError>([&] { g.validate(); });
  EXPECT_STREQ(e.what(), "node 'fit' needs input 'train', which no node produces");
}

TEST(Graph, AddNodesIsAllOrNothing) {
  Graph g;
  g.add_node(node("a", {}, {"x"}));
  const std::vector<NodeSpec> batch = {
      node("b", {"x"}, {"y"}, {"t"}), node("c", {"y", "params:p"}, {"w"}), node("d", {"w"}, {"x"})};
  EXPECT_THROW(g.add_nodes(batch), mlops::DuplicateOutputError);
  EXPECT_EQ(g.node_count(), 1u);
  EXPECT_EQ(g.dataset_count(), 1u);
  EXPECT_EQ(g.edge_count(), 0u);
  EXPECT_FALSE(g.find_node("b").has_value());
  EXPECT_FALSE(g.find_dataset("y").has_value());
  EXPECT_EQ(g.children(0), Ids{});
  // After the rollback, the same names can be added again.
  g.add_nodes(std::vector<NodeSpec>{node("b", {"x"}, {"y"}), node("c", {"y"}, {"w"})});
  EXPECT_EQ(g.topological_order(), (Ids{0, 1, 2}));
  EXPECT_EQ(g.edge_count(), 2u);
}

TEST(Graph, TopologicalOrderBreaksTiesByDeclaration) {
  Graph g;
  g.add_node(node("late", {"b"}, {"c"}));  // declared first, runs after "first"
  g.add_node(node("solo", {}, {"s"}));
  g.add_node(node("first", {}, {"b"}));
  g.add_node(node("other", {}, {"o"}));
  EXPECT_EQ(g.topological_order(), (Ids{1, 2, 0, 3}));
}

TEST(Graph, AncestorsAndDescendants) {
  const Graph g = iris();
  EXPECT_EQ(g.ancestors(Ids{3}), (Ids{0, 1, 2}));
  EXPECT_EQ(g.descendants(Ids{1}), (Ids{2, 3, 4}));
  EXPECT_EQ(g.descendants(Ids{3, 4}), Ids{});
  EXPECT_EQ(g.ancestors(Ids{2, 3}), (Ids{0, 1}));
  EXPECT_THROW(g.ancestors(Ids{7}), std::out_of_range);
}

TEST(Graph, SelectEachKindAndIntersections) {
  const Graph g = iris();
  EXPECT_EQ(g.select({}), (Ids{0, 1, 2, 3, 4}));
  EXPECT_EQ(g.select(pick({"fit", "load"}, {}, {}, {})), (Ids{0, 2}));
  EXPECT_EQ(g.select(pick({}, {"fit"}, {}, {})), (Ids{2, 3, 4}));
  EXPECT_EQ(g.select(pick({}, {}, {"fit"}, {})), (Ids{0, 1, 2}));
  EXPECT_EQ(g.select(pick({}, {}, {}, {"prep", "train"})), (Ids{1, 2}));
  EXPECT_EQ(g.select(pick({}, {"split"}, {"evaluate"}, {})), (Ids{1, 2, 3}));
  EXPECT_EQ(g.select(pick({}, {"load"}, {}, {"train"})), (Ids{2}));
}

TEST(Graph, SelectUnknownNamesAndTags) {
  const Graph g = iris();
  auto e = capture<mlops::SelectionError>([&] { g.select(pick({"predict"}, {}, {}, {})); });
  EXPECT_STREQ(e.what(), "selection names unknown node 'predict'");
  e = capture<mlops::SelectionError>([&] { g.select(pick({}, {"x"}, {"y"}, {"gpu"})); });
  EXPECT_STREQ(e.what(), "selection names unknown nodes 'x', 'y' and unknown tag 'gpu'");
}

TEST(Graph, SelectNothingIsAnError) {
  const Graph g = iris();
  const auto e =
      capture<mlops::SelectionError>([&] { g.select(pick({}, {"evaluate"}, {"fit"}, {})); });
  EXPECT_STREQ(e.what(), "the selection from=['evaluate'], to=['fit'] matches no node");
  EXPECT_THROW(Graph().select({}), mlops::SelectionError);
}

TEST(Graph, Levels) {
  const Graph g = iris();
  const std::vector<Ids> expected = {{0}, {1}, {2}, {3, 4}};
  EXPECT_EQ(g.levels(), expected);
  EXPECT_TRUE(Graph().levels().empty());
}

TEST(Graph, RemainingAndCriticalPath) {
  const Graph g = iris();
  const std::vector<double> remaining = g.remaining_path({});
  EXPECT_EQ(remaining, (std::vector<double>{8.0, 7.0, 6.0, 1.0, 5.0}));
  const auto [total, path] = g.critical_path({});
  EXPECT_DOUBLE_EQ(total, 8.0);
  EXPECT_EQ(path, (Ids{0, 1, 2, 4}));
  const std::vector<double> costs = {1, 1, 1, 10, 1};
  const auto [total2, path2] = g.critical_path(costs);
  EXPECT_DOUBLE_EQ(total2, 13.0);
  EXPECT_EQ(path2, (Ids{0, 1, 2, 3}));
  EXPECT_THROW(g.remaining_path(std::vector<double>{1.0}), std::invalid_argument);
  EXPECT_EQ(Graph().critical_path({}).second, Ids{});
}

TEST(Graph, CopiesAreIndependent) {
  Graph g = iris();
  Graph copy = g;
  copy.add_node(node("report", {"scores"}, {"pdf"}));
  EXPECT_EQ(g.node_count(), 5u);
  EXPECT_EQ(copy.node_count(), 6u);
  EXPECT_EQ(copy.descendants(Ids{0}).size(), 5u);
  EXPECT_EQ(g.descendants(Ids{0}).size(), 4u);
  Graph moved = std::move(copy);
  EXPECT_EQ(moved.node_count(), 6u);
}

TEST(Graph, ReverseOrderArrivalBuildsAChain) {
  // Each node reads what the next-declared node produces: every addition
  // closes onto existing readers, the case the incremental labelling handles.
  Graph g;
  const int n = 2000;
  for (int i = n - 1; i >= 0; --i) {
    g.add_node(
        node(indexed('n', i), i == 0 ? Names{} : Names{indexed('d', i - 1)}, {indexed('d', i)}));
  }
  g.validate();
  const Ids order = g.topological_order();
  for (int i = 0; i < n; ++i) EXPECT_EQ(g.node_name(order[i]), indexed('n', i));
}

}  // namespace

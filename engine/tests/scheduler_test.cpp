// Unit tests of the Scheduler: every transition, the priority order, the
// initial states, and every error a caller can provoke.
#include "mlops/scheduler.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mlops/errors.hpp"
#include "mlops/graph.hpp"
#include "mlops/plan.hpp"

namespace mlops {
namespace {

using S = NodeState;

// Appending, not `label("d", n)`, which trips a GCC 12 -Wrestrict
// false positive at -O3.
std::string label(std::string prefix, std::size_t n) {
  prefix.append(std::to_string(n));
  return prefix;
}

// Builds a graph from parent lists: node i is "n<i>" and writes dataset "d<i>".
Graph graph_from_parents(const std::vector<std::vector<NodeId>>& parents,
                         const std::vector<double>& costs = {}) {
  Graph graph;
  for (std::size_t i = 0; i < parents.size(); ++i) {
    NodeSpec spec;
    spec.name = label("n", i);
    for (NodeId p : parents[i]) spec.inputs.push_back(label("d", p));
    spec.outputs.push_back(label("d", i));
    if (!costs.empty()) spec.cost = costs[i];
    graph.add_node(spec);
  }
  return graph;
}

// a -> b, a -> c, {b, c} -> d
Graph diamond(const std::vector<double>& costs = {}) {
  return graph_from_parents({{}, {0}, {0}, {1, 2}}, costs);
}

std::vector<S> all(std::size_t n, S state) { return std::vector<S>(n, state); }

SchedulerOptions slots(std::size_t max_concurrency) {
  SchedulerOptions options;
  options.max_concurrency = max_concurrency;
  return options;
}

SchedulerOptions retries(std::vector<std::uint32_t> per_node) {
  SchedulerOptions options;
  options.retries = std::move(per_node);
  return options;
}

SchedulerOptions costs(std::vector<double> per_node) {
  SchedulerOptions options;
  options.costs = std::move(per_node);
  return options;
}

TEST(Scheduler, PlanActionsGiveInitialStates) {
  EXPECT_EQ(mlops::initial_state(mlops::Action::run), S::pending);
  EXPECT_EQ(mlops::initial_state(mlops::Action::reuse), S::cached);
  EXPECT_EQ(mlops::initial_state(mlops::Action::skip), S::excluded);
  EXPECT_EQ(mlops::initial_state(mlops::Action::not_started), S::not_started);
  mlops::Plan plan;
  plan.actions = {mlops::Action::reuse, mlops::Action::run, mlops::Action::not_started};
  EXPECT_EQ(mlops::initial_states(plan), (std::vector<S>{S::cached, S::pending, S::not_started}));
  // Every state has a name, and kNodeStateCount covers them all.
  EXPECT_STREQ(mlops::to_string(static_cast<S>(mlops::kNodeStateCount - 1)), "excluded");
}

TEST(Scheduler, DiamondRunsInDependencyOrder) {
  const Graph graph = diamond();
  Scheduler s(graph, all(4, S::pending));
  EXPECT_EQ(s.state(0), S::ready);
  EXPECT_EQ(s.state(3), S::pending);
  EXPECT_EQ(s.ready_count(), 1u);
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{0}));
  EXPECT_EQ(s.state(0), S::running);
  EXPECT_EQ(s.running_count(), 1u);
  EXPECT_TRUE(s.take_ready().empty());
  s.succeed(0);
  EXPECT_EQ(s.state(0), S::succeeded);
  EXPECT_EQ(s.ready_count(), 2u);
  // Equal remaining paths: the topological rank decides.
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{1, 2}));
  s.succeed(2);
  EXPECT_EQ(s.state(3), S::pending);
  s.succeed(1);
  EXPECT_EQ(s.state(3), S::ready);
  EXPECT_FALSE(s.finished());
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{3}));
  s.succeed(3);
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.states(), all(4, S::succeeded));
  for (NodeId id = 0; id < 4; ++id) EXPECT_EQ(s.attempts(id), 1u);
}

TEST(Scheduler, SucceedAndTakeReportsABatchAndTakesTheNext) {
  const Graph graph = diamond();
  Scheduler s(graph, all(4, S::pending));
  std::vector<NodeId> out;
  EXPECT_EQ(s.succeed_and_take({}, out), 1u);
  EXPECT_EQ(out, (std::vector<NodeId>{0}));
  out.clear();
  const std::vector<NodeId> first{0};
  EXPECT_EQ(s.succeed_and_take(first, out, 1), 1u);
  EXPECT_EQ(out, (std::vector<NodeId>{1}));
  EXPECT_EQ(s.state(2), S::ready);
  out.clear();
  const std::vector<NodeId> second{1};
  EXPECT_EQ(s.succeed_and_take(second, out), 1u);
  EXPECT_EQ(out, (std::vector<NodeId>{2}));
  out.clear();
  const std::vector<NodeId> third{2};
  EXPECT_EQ(s.succeed_and_take(third, out), 1u);
  EXPECT_EQ(out, (std::vector<NodeId>{3}));
  out.clear();
  const std::vector<NodeId> last{3};
  EXPECT_EQ(s.succeed_and_take(last, out), 0u);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.states(), all(4, S::succeeded));
}

TEST(Scheduler, SucceedAndTakeStopsAtANodeThatIsNotRunning) {
  const Graph graph = diamond();
  Scheduler s(graph, all(4, S::pending));
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{0}));
  std::vector<NodeId> out;
  const std::vector<NodeId> ids{0, 3};
  EXPECT_THROW(s.succeed_and_take(ids, out), StateError);
  EXPECT_EQ(s.state(0), S::succeeded);  // recorded before the bad id
  EXPECT_TRUE(out.empty());             // and nothing taken
  EXPECT_EQ(s.ready_count(), 2u);
  const std::vector<NodeId> again{0};
  EXPECT_THROW(s.succeed_and_take(again, out), StateError);
  const std::vector<NodeId> missing{99};
  EXPECT_THROW(s.succeed_and_take(missing, out), StateError);
}

TEST(Scheduler, LongestRemainingPathFirst) {
  // Node 1 is cheap, node 2 expensive: 2 goes first despite its later rank.
  const Graph graph = diamond({1.0, 1.0, 5.0, 1.0});
  Scheduler s(graph, all(4, S::pending));
  s.take_ready();
  s.succeed(0);
  EXPECT_EQ(s.take_ready(1), (std::vector<NodeId>{2}));
  EXPECT_EQ(s.take_ready(1), (std::vector<NodeId>{1}));
}

TEST(Scheduler, TakingAllGivesThePopOrder) {
  // Taking every ready node sorts them at once; the order must be the one that
  // taking them one at a time gives: larger remaining path first, then rank.
  std::vector<std::vector<NodeId>> parents{{}};
  std::vector<double> node_costs{1.0};
  for (NodeId i = 1; i < 40; ++i) {
    parents.push_back({0});
    node_costs.push_back(static_cast<double>((i * 7) % 5));  // ties in cost, by rank then
  }
  const Graph graph = graph_from_parents(parents, node_costs);
  Scheduler one_by_one(graph, all(40, S::pending));
  Scheduler at_once(graph, all(40, S::pending));
  one_by_one.take_ready();
  at_once.take_ready();
  one_by_one.succeed(0);
  at_once.succeed(0);
  std::vector<NodeId> popped;
  for (std::vector<NodeId> next = one_by_one.take_ready(1); !next.empty();
       next = one_by_one.take_ready(1)) {
    popped.push_back(next[0]);
  }
  EXPECT_EQ(at_once.take_ready(), popped);
  EXPECT_EQ(at_once.ready_count(), 0u);
  EXPECT_EQ(at_once.state(5), S::running);
  EXPECT_EQ(at_once.attempts(5), 1u);
}

TEST(Scheduler, CostsOptionOverridesGraphCosts) {
  const Graph graph = diamond({1.0, 1.0, 5.0, 1.0});
  Scheduler s(graph, all(4, S::pending), costs({1.0, 7.0, 1.0, 1.0}));
  s.take_ready();
  s.succeed(0);
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{1, 2}));
}

TEST(Scheduler, LongerChainBeatsSingleNode) {
  // Sources 0 (alone) and 1 (heading a chain 1 -> 2 -> 3): 1 first.
  const Graph graph = graph_from_parents({{}, {}, {1}, {2}});
  Scheduler s(graph, all(4, S::pending));
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{1, 0}));
}

TEST(Scheduler, TiesFollowTopologicalRankNotId) {
  // Node 0 reads node 1's output, so node 1 ranks first although declared second.
  const Graph graph = graph_from_parents({{1}, {}, {}});
  Scheduler s(graph, all(3, S::pending), costs({1.0, 0.0, 1.0}));
  // Remaining paths: node 0 = 1, node 1 = 0 + 1 = 1, node 2 = 1: all tie.
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{1, 2}));
}

TEST(Scheduler, MaxConcurrencyAndLimit) {
  const Graph graph = graph_from_parents({{}, {}, {}, {}, {}});
  Scheduler s(graph, all(5, S::pending), slots(2));
  EXPECT_EQ(s.take_ready(1).size(), 1u);
  EXPECT_EQ(s.take_ready().size(), 1u);
  EXPECT_TRUE(s.take_ready().empty());
  EXPECT_EQ(s.running_count(), 2u);
  EXPECT_EQ(s.ready_count(), 3u);
  s.succeed(0);
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{2}));
  EXPECT_TRUE(s.take_ready(0).empty());
}

TEST(Scheduler, TakeReadyIntoAppends) {
  const Graph graph = graph_from_parents({{}, {}, {}});
  Scheduler s(graph, all(3, S::pending));
  std::vector<NodeId> out{42};
  EXPECT_EQ(s.take_ready_into(out, 2), 2u);
  EXPECT_EQ(out, (std::vector<NodeId>{42, 0, 1}));
}

TEST(Scheduler, CachedAndExcludedParentsCountAsDone) {
  // 0 cached -> 2; 1 excluded -> 2; 3 pending -> 4 excluded -> 5
  const Graph graph = graph_from_parents({{}, {}, {0, 1}, {}, {3}, {4}});
  Scheduler s(graph, std::vector<S>{S::cached, S::excluded, S::pending, S::pending, S::excluded,
                                    S::pending});
  EXPECT_EQ(s.state(2), S::ready);
  // Node 5 reads the excluded node's stored outputs, so it does not wait for node 3.
  EXPECT_EQ(s.state(5), S::ready);
  EXPECT_EQ(s.take_ready().size(), 3u);
  s.succeed(2);
  s.succeed(3);
  s.succeed(5);
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.state(0), S::cached);
  EXPECT_EQ(s.state(1), S::excluded);
  EXPECT_EQ(s.state(4), S::excluded);
}

TEST(Scheduler, NotStartedSpreadsToDescendants) {
  // 0 not_started -> 1 -> 2; 3 pending; 2 also reads 3.
  const Graph graph = graph_from_parents({{}, {0}, {1, 3}, {}});
  Scheduler s(graph, std::vector<S>{S::not_started, S::pending, S::pending, S::pending});
  EXPECT_EQ(s.state(1), S::not_started);
  EXPECT_EQ(s.state(2), S::not_started);
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{3}));
  s.succeed(3);
  EXPECT_TRUE(s.finished());
}

TEST(Scheduler, NothingToRunIsFinished) {
  const Graph empty;
  EXPECT_TRUE(Scheduler(empty, {}).finished());
  const Graph graph = diamond();
  Scheduler s(graph, all(4, S::cached));
  EXPECT_TRUE(s.finished());
  EXPECT_TRUE(s.take_ready().empty());
}

TEST(Scheduler, RetryThenSucceed) {
  const Graph graph = diamond();
  Scheduler s(graph, all(4, S::pending), retries({2, 0, 0, 0}));
  s.take_ready();
  EXPECT_TRUE(s.fail(0));
  EXPECT_EQ(s.state(0), S::retrying);
  EXPECT_EQ(s.ready_count(), 1u);
  EXPECT_EQ(s.running_count(), 0u);
  EXPECT_FALSE(s.finished());
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{0}));
  EXPECT_EQ(s.attempts(0), 2u);
  EXPECT_TRUE(s.fail(0));
  s.take_ready();
  EXPECT_EQ(s.attempts(0), 3u);
  s.succeed(0);
  EXPECT_EQ(s.state(0), S::succeeded);
  EXPECT_EQ(s.ready_count(), 2u);
}

TEST(Scheduler, RetriesExhaustedFailsAndSpreads) {
  // 0 -> 1 -> 2 and an independent 3 -> 4.
  const Graph graph = graph_from_parents({{}, {0}, {1}, {}, {3}});
  Scheduler s(graph, all(5, S::pending), retries({1, 0, 0, 0, 0}));
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{0, 3}));
  EXPECT_TRUE(s.fail(0));
  s.take_ready(1);
  EXPECT_FALSE(s.fail(0));
  EXPECT_EQ(s.state(0), S::failed);
  EXPECT_EQ(s.state(1), S::upstream_failed);
  EXPECT_EQ(s.state(2), S::upstream_failed);
  EXPECT_FALSE(s.finished());
  s.succeed(3);
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{4}));
  s.succeed(4);
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.attempts(1), 0u);
}

TEST(Scheduler, FailureStopsAtNodesThatDoNotWait) {
  // 0 -> 1 (cached) -> 2: node 2 reads stored outputs and does not wait for 0.
  // 0 -> 3 <- 4: node 3 waits for 0 and 4; it becomes upstream_failed at once.
  const Graph graph = graph_from_parents({{}, {0}, {1}, {0, 4}, {}});
  Scheduler s(graph, std::vector<S>{S::pending, S::cached, S::pending, S::pending, S::pending});
  // Remaining paths: 0 and 4 reach 3 (2 each), 2 is a sink (1).
  EXPECT_EQ(s.take_ready(), (std::vector<NodeId>{0, 4, 2}));
  EXPECT_FALSE(s.fail(0));
  EXPECT_EQ(s.state(3), S::upstream_failed);
  EXPECT_EQ(s.state(2), S::running);
  s.succeed(2);
  s.succeed(4);
  EXPECT_EQ(s.state(3), S::upstream_failed);
  EXPECT_TRUE(s.finished());
}

TEST(Scheduler, CancelSettlesWaitingNodesAndLetsRunningOnesFinish) {
  // Sources 0, 1, 2, 3; 4 reads 0.
  const Graph graph = graph_from_parents({{}, {}, {}, {}, {0}});
  Scheduler s(graph, all(5, S::pending), retries({3, 3, 3, 0, 0}));
  EXPECT_EQ(s.take_ready(3), (std::vector<NodeId>{0, 1, 2}));
  EXPECT_TRUE(s.fail(2));  // retrying when the cancel comes
  EXPECT_FALSE(s.cancelled());
  s.cancel();
  EXPECT_TRUE(s.cancelled());
  EXPECT_EQ(s.state(2), S::cancelled);  // was retrying
  EXPECT_EQ(s.state(3), S::cancelled);  // was ready
  EXPECT_EQ(s.state(4), S::cancelled);  // was pending
  EXPECT_EQ(s.ready_count(), 0u);
  EXPECT_TRUE(s.take_ready().empty());
  EXPECT_FALSE(s.finished());
  s.succeed(0);
  EXPECT_EQ(s.state(0), S::succeeded);
  EXPECT_EQ(s.state(4), S::cancelled);
  EXPECT_FALSE(s.fail(1));  // no retry after a cancel, although retries remain
  EXPECT_EQ(s.state(1), S::failed);
  EXPECT_TRUE(s.finished());
  s.cancel();  // a second cancel changes nothing
  EXPECT_EQ(s.state(0), S::succeeded);
}

TEST(Scheduler, OutcomeForNodeNotRunningNamesNodeAndState) {
  const Graph graph = diamond();
  Scheduler s(graph, all(4, S::pending));
  try {
    s.succeed(3);
    FAIL() << "succeed on a pending node must throw";
  } catch (const StateError& e) {
    EXPECT_EQ(std::string(e.what()), "Scheduler.succeed: node 3 is pending, not running");
  }
  try {
    s.fail(0);
    FAIL() << "fail on a ready node must throw";
  } catch (const StateError& e) {
    EXPECT_EQ(std::string(e.what()), "Scheduler.fail: node 0 is ready, not running");
  }
  s.take_ready();
  s.succeed(0);
  EXPECT_THROW(s.succeed(0), StateError);
  EXPECT_THROW(s.fail(0), StateError);
  // A failed call changes nothing.
  EXPECT_EQ(s.state(0), S::succeeded);
  EXPECT_EQ(s.running_count(), 0u);
}

TEST(Scheduler, UnknownNodeIdThrows) {
  const Graph graph = diamond();
  Scheduler s(graph, all(4, S::pending));
  try {
    s.state(4);
    FAIL() << "state(4) must throw";
  } catch (const StateError& e) {
    EXPECT_EQ(std::string(e.what()), "Scheduler.state: no node 4 (the run has 4 nodes)");
  }
  EXPECT_THROW(s.attempts(99), StateError);
  EXPECT_THROW(s.succeed(4), StateError);
  EXPECT_THROW(s.fail(kNoNode), StateError);
}

TEST(Scheduler, ConstructorRejectsBadArguments) {
  const Graph graph = diamond();
  EXPECT_THROW(Scheduler(graph, all(3, S::pending)), std::invalid_argument);
  EXPECT_THROW(Scheduler(graph, all(4, S::pending), retries({1, 2})), std::invalid_argument);
  EXPECT_THROW(Scheduler(graph, all(4, S::pending), costs({1.0})), std::invalid_argument);
  EXPECT_THROW(Scheduler(graph, all(4, S::pending), costs({1.0, -1.0, 1.0, 1.0})),
               std::invalid_argument);
  for (S bad : {S::ready, S::running, S::succeeded, S::failed, S::retrying, S::upstream_failed,
                S::cancelled}) {
    std::vector<S> initial = all(4, S::pending);
    initial[1] = bad;
    EXPECT_THROW(Scheduler(graph, initial), StateError) << to_string(bad);
  }
}

TEST(Scheduler, ChildReadingTwoOutputsOfOneParentWaitsOnce) {
  Graph graph;
  NodeSpec a;
  a.name = "a";
  a.outputs = {"x", "y"};
  graph.add_node(a);
  NodeSpec b;
  b.name = "b";
  b.inputs = {"x", "y"};
  b.outputs = {"z"};
  graph.add_node(b);
  Scheduler s(graph, all(2, S::pending));
  s.take_ready();
  s.succeed(0);
  EXPECT_EQ(s.state(1), S::ready);
}

TEST(Scheduler, OutlivesItsGraph) {
  std::vector<S> initial = all(4, S::pending);
  auto make = [&] {
    const Graph graph = diamond();
    return std::make_unique<Scheduler>(graph, initial);
  };
  std::unique_ptr<Scheduler> s = make();
  while (!s->finished()) {
    for (NodeId id : s->take_ready()) s->succeed(id);
  }
  EXPECT_EQ(s->states(), all(4, S::succeeded));
}

TEST(Scheduler, StateNamesAndFinality) {
  const std::vector<std::pair<S, const char*>> names = {
      {S::pending, "pending"},         {S::ready, "ready"},
      {S::running, "running"},         {S::succeeded, "succeeded"},
      {S::cached, "cached"},           {S::failed, "failed"},
      {S::retrying, "retrying"},       {S::upstream_failed, "upstream_failed"},
      {S::not_started, "not_started"}, {S::cancelled, "cancelled"},
      {S::excluded, "excluded"}};
  for (const auto& [state, name] : names) EXPECT_STREQ(to_string(state), name);
  EXPECT_FALSE(is_final(S::pending));
  EXPECT_FALSE(is_final(S::ready));
  EXPECT_FALSE(is_final(S::running));
  EXPECT_FALSE(is_final(S::retrying));
  for (S state : {S::succeeded, S::cached, S::failed, S::upstream_failed, S::not_started,
                  S::cancelled, S::excluded}) {
    EXPECT_TRUE(is_final(state)) << to_string(state);
  }
}

}  // namespace
}  // namespace mlops

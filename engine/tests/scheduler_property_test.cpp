// Property tests of the Scheduler: thousands of seeded random DAGs with random
// initial states, costs, retries, outcomes and cancel moments, driven in random
// interleavings and checked against a brute-force reference; then a stress
// test where several threads drive one scheduler.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mlops/graph.hpp"
#include "mlops/scheduler.hpp"

namespace mlops {
namespace {

using S = NodeState;

// Appending, not `label("d", n)`, which trips a GCC 12 -Wrestrict
// false positive at -O3.
std::string label(std::string prefix, std::size_t n) {
  prefix.append(std::to_string(n));
  return prefix;
}

// One random test case. Each node's outcome per attempt is fixed up front, so
// the final states do not depend on the order the scheduler hands nodes out.
struct Case {
  Graph graph;
  std::vector<std::vector<NodeId>> parents;  // as generated, independent of the Graph
  std::vector<S> initial;
  std::vector<std::uint32_t> retries;
  std::vector<double> costs;
  std::vector<std::vector<bool>> succeeds;  // [node][attempt - 1]
  std::size_t max_concurrency = 0;
};

// Nodes are declared in a random order that differs from the dependency order,
// so ids, ranks and priorities all disagree. Some children read two outputs of
// the same parent, which must count as one dependency.
Case random_case(std::uint32_t seed, std::size_t max_nodes) {
  std::mt19937 rng(seed);
  auto uniform = [&](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };

  Case c;
  const std::size_t n = uniform(1, max_nodes);
  std::vector<NodeId> hidden_order(n);
  for (NodeId i = 0; i < n; ++i) hidden_order[i] = i;
  std::shuffle(hidden_order.begin(), hidden_order.end(), rng);
  const double edge_p = std::uniform_real_distribution<double>(0.02, 0.4)(rng);
  c.parents.resize(n);
  for (std::size_t to = 1; to < n; ++to) {
    for (std::size_t from = 0; from < to; ++from) {
      if (chance(edge_p)) c.parents[hidden_order[to]].push_back(hidden_order[from]);
    }
  }
  for (NodeId id = 0; id < n; ++id) {
    NodeSpec spec;
    spec.name = label("n", id);
    spec.outputs = {label("d", id), label("e", id)};
    for (NodeId p : c.parents[id]) {
      spec.inputs.push_back(label("d", p));
      if (chance(0.2)) spec.inputs.push_back(label("e", p));
    }
    c.graph.add_node(spec);
  }

  const double p_success = std::uniform_real_distribution<double>(0.4, 1.0)(rng);
  for (NodeId id = 0; id < n; ++id) {
    const double r = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    c.initial.push_back(r < 0.8    ? S::pending
                        : r < 0.88 ? S::cached
                        : r < 0.94 ? S::excluded
                                   : S::not_started);
    c.retries.push_back(chance(0.3) ? static_cast<std::uint32_t>(uniform(1, 3)) : 0);
    c.costs.push_back(static_cast<double>(uniform(0, 3)));  // small integers: many ties
    std::vector<bool> outcomes;
    for (std::uint32_t a = 0; a <= c.retries.back(); ++a) outcomes.push_back(chance(p_success));
    c.succeeds.push_back(outcomes);
  }
  c.max_concurrency = chance(0.5) ? uniform(1, 4) : 0;
  return c;
}

SchedulerOptions options_for(const Case& c) {
  SchedulerOptions options;
  options.max_concurrency = c.max_concurrency;
  options.retries = c.retries;
  options.costs = c.costs;
  return options;
}

bool done(S s) { return s == S::succeeded || s == S::cached || s == S::excluded; }

// The final states without a cancel, by repeated sweeps to a fixed point over
// the generated parent lists: first not_started (settled before anything
// runs), then the outcomes.
std::vector<S> reference_states(const Case& c) {
  const std::size_t n = c.initial.size();
  std::vector<S> state = c.initial;
  for (bool changed = true; changed;) {
    changed = false;
    for (NodeId id = 0; id < n; ++id) {
      const auto& ps = c.parents[id];
      if (state[id] == S::pending &&
          std::any_of(ps.begin(), ps.end(), [&](NodeId p) { return state[p] == S::not_started; })) {
        state[id] = S::not_started;
        changed = true;
      }
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (NodeId id = 0; id < n; ++id) {
      if (state[id] != S::pending) continue;
      const auto& ps = c.parents[id];
      auto any = [&](auto pred) { return std::any_of(ps.begin(), ps.end(), pred); };
      S next = S::pending;
      if (any([&](NodeId p) { return state[p] == S::failed || state[p] == S::upstream_failed; })) {
        next = S::upstream_failed;
      } else if (std::all_of(ps.begin(), ps.end(), [&](NodeId p) { return done(state[p]); })) {
        const auto& outcomes = c.succeeds[id];
        next = std::find(outcomes.begin(), outcomes.end(), true) != outcomes.end() ? S::succeeded
                                                                                   : S::failed;
      }
      if (next != S::pending) {
        state[id] = next;
        changed = true;
      }
    }
  }
  return state;
}

// Longest cost path from each node to a sink, by plain recursion.
double remaining(const Case& c, const std::vector<std::vector<NodeId>>& children, NodeId id,
                 std::map<NodeId, double>& memo) {
  if (auto it = memo.find(id); it != memo.end()) return it->second;
  double best = 0;
  for (NodeId child : children[id]) best = std::max(best, remaining(c, children, child, memo));
  return memo[id] = c.costs[id] + best;
}

// Drives one case in a random interleaving, checking every step, then compares
// the final states with the reference.
void drive(const Case& c, std::uint32_t seed) {
  std::mt19937 rng(seed * 7919u + 1);
  const std::size_t n = c.initial.size();
  Scheduler s(c.graph, c.initial, options_for(c));

  std::vector<std::vector<NodeId>> children(n);
  for (NodeId id = 0; id < n; ++id) {
    for (NodeId p : c.parents[id]) children[p].push_back(id);
  }
  std::map<NodeId, double> memo;
  std::vector<std::uint32_t> rank(n);
  const std::vector<NodeId> order = c.graph.topological_order();
  for (std::uint32_t r = 0; r < n; ++r) rank[order[r]] = r;
  // True when a is to be handed out no later than b.
  auto before = [&](NodeId a, NodeId b) {
    const double ra = remaining(c, children, a, memo);
    const double rb = remaining(c, children, b, memo);
    return ra != rb ? ra > rb : rank[a] < rank[b];
  };

  std::vector<S> seen = c.initial;  // what the driver knows: set on hand-out and outcome
  std::vector<std::uint32_t> handed(n, 0);
  std::vector<NodeId> running;
  const bool will_cancel = std::bernoulli_distribution(0.3)(rng);
  const std::size_t cancel_step = std::uniform_int_distribution<std::size_t>(0, n)(rng);
  std::vector<S> at_cancel;
  std::vector<std::uint32_t> attempts_at_cancel;

  for (std::size_t step = 0; !s.finished(); ++step) {
    ASSERT_LE(step, 10 * n + 10) << "no progress";
    if (will_cancel && step == cancel_step) {
      at_cancel = s.states();
      for (NodeId id = 0; id < n; ++id) attempts_at_cancel.push_back(s.attempts(id));
      s.cancel();
    }
    const std::size_t limit = std::uniform_int_distribution<std::size_t>(0, 4)(rng);
    const std::vector<NodeId> got = s.take_ready(limit == 4 ? SIZE_MAX : limit);
    if (s.cancelled()) {
      ASSERT_TRUE(got.empty());
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
      const NodeId id = got[i];
      for (NodeId p : c.parents[id]) {
        ASSERT_TRUE(done(seen[p])) << "node " << id << " handed out before parent " << p;
      }
      if (i > 0) {
        ASSERT_TRUE(before(got[i - 1], id)) << "batch out of priority order";
      }
      ASSERT_LE(++handed[id], c.retries[id] + 1) << "node " << id << " handed out too often";
      seen[id] = S::running;
      running.push_back(id);
    }
    // Whatever is still waiting for a slot must not outrank what was handed out.
    if (!got.empty()) {
      const std::vector<S> now = s.states();
      for (NodeId id = 0; id < n; ++id) {
        if (now[id] == S::ready || now[id] == S::retrying) {
          ASSERT_TRUE(before(got.back(), id)) << "node " << id << " skipped";
        }
      }
    }
    if (c.max_concurrency != 0) {
      ASSERT_LE(running.size(), c.max_concurrency);
    }
    ASSERT_EQ(s.running_count(), running.size());
    ASSERT_FALSE(limit != 0 && running.empty() && got.empty() && !s.finished()) << "stuck";

    std::shuffle(running.begin(), running.end(), rng);
    std::size_t finish = std::uniform_int_distribution<std::size_t>(0, running.size())(rng);
    if (got.empty()) finish = std::max<std::size_t>(finish, 1);
    for (std::size_t k = 0; k < finish && !running.empty(); ++k) {
      const NodeId id = running.back();
      running.pop_back();
      const std::uint32_t attempt = s.attempts(id);
      ASSERT_EQ(attempt, handed[id]);
      if (c.succeeds[id][attempt - 1]) {
        s.succeed(id);
        seen[id] = S::succeeded;
      } else {
        const bool expect_retry = !s.cancelled() && attempt <= c.retries[id];
        ASSERT_EQ(s.fail(id), expect_retry);
        seen[id] = expect_retry ? S::retrying : S::failed;
      }
    }
  }

  ASSERT_TRUE(running.empty());
  ASSERT_EQ(s.running_count(), 0u);
  ASSERT_EQ(s.ready_count(), 0u);
  const std::vector<S> final_states = s.states();
  const std::vector<S> reference = reference_states(c);
  for (NodeId id = 0; id < n; ++id) {
    ASSERT_TRUE(is_final(final_states[id]))
        << "node " << id << " ends " << to_string(final_states[id]);
    S expected = reference[id];
    if (!at_cancel.empty() && !is_final(at_cancel[id])) {
      // Running at the cancel: the attempt in flight decides. Otherwise cancelled.
      expected = at_cancel[id] != S::running                  ? S::cancelled
                 : c.succeeds[id][attempts_at_cancel[id] - 1] ? S::succeeded
                                                              : S::failed;
    }
    ASSERT_EQ(final_states[id], expected)
        << "node " << id << ": " << to_string(final_states[id]) << " != " << to_string(expected);
  }
}

TEST(SchedulerProperty, RandomDagsMatchReference) {
  for (std::uint32_t seed = 1; seed <= 3000; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    const Case c = random_case(seed, 30);
    drive(c, seed);
    if (HasFatalFailure()) return;
  }
}

TEST(SchedulerProperty, LargerDagsMatchReference) {
  for (std::uint32_t seed = 10001; seed <= 10100; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    const Case c = random_case(seed, 200);
    drive(c, seed);
    if (HasFatalFailure()) return;
  }
}

// Several threads take and complete nodes of one scheduler at once. A shared
// counter is raised after a hand-out and lowered before the outcome is
// reported, so it never exceeds the nodes the scheduler counts as running.
TEST(SchedulerStress, ThreadsDriveOneScheduler) {
  constexpr int kThreads = 4;
  for (std::uint32_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    Case c = random_case(seed, 400);
    c.max_concurrency = seed % 2 == 0 ? 3 : 0;
    Scheduler s(c.graph, c.initial, options_for(c));
    std::atomic<std::size_t> in_flight{0};
    std::atomic<std::size_t> peak{0};
    std::atomic<bool> bad_outcome{false};
    std::atomic<bool> timed_out{false};
    // A scheduler that strands a node would keep the workers spinning forever.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    auto worker = [&] {
      std::vector<NodeId> batch;
      while (!s.finished()) {
        if (std::chrono::steady_clock::now() > deadline) {
          timed_out = true;
          return;
        }
        batch.clear();
        if (s.take_ready_into(batch, 2) == 0) {
          std::this_thread::yield();
          continue;
        }
        const std::size_t now = in_flight += batch.size();
        std::size_t seen_peak = peak.load();
        while (now > seen_peak && !peak.compare_exchange_weak(seen_peak, now)) {
        }
        for (NodeId id : batch) {
          const std::uint32_t attempt = s.attempts(id);
          --in_flight;
          if (c.succeeds[id][attempt - 1]) {
            s.succeed(id);
          } else if (s.fail(id) != (attempt <= c.retries[id])) {
            bad_outcome = true;
          }
        }
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker);
    for (std::thread& t : threads) t.join();
    ASSERT_FALSE(timed_out.load()) << "the run never finished";
    EXPECT_FALSE(bad_outcome.load());
    if (c.max_concurrency != 0) {
      EXPECT_LE(peak.load(), c.max_concurrency);
    }
    EXPECT_EQ(s.states(), reference_states(c));
  }
}

}  // namespace
}  // namespace mlops

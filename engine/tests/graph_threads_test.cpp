// Nodes added while other threads read the graph: every reader sees one
// consistent snapshot, and nothing races (run under ASan/UBSan, and TSan).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mlops/fingerprint.hpp"
#include "mlops/graph.hpp"
#include "mlops/plan.hpp"
#include "mlops/scheduler.hpp"

namespace {

using mlops::Graph;
using mlops::NodeId;
using mlops::NodeSpec;

// Node i of a chain: reads d{i-1} (and a parameter), writes d{i}.
// (Names appended rather than `"n" + std::to_string(i)`, which trips GCC 12's
// false -Wrestrict positive.)
std::string named(char prefix, std::size_t i) {
  std::string name(1, prefix);
  name += std::to_string(i);
  return name;
}

NodeSpec chain_node(std::size_t i) {
  NodeSpec spec;
  spec.name = named('n', i);
  if (i > 0) spec.inputs.push_back(named('d', i - 1));
  spec.inputs.push_back("params:p");
  spec.outputs.push_back(named('d', i));
  return spec;
}

// One reader pass over the graph as it is now; returns the node count it saw.
std::size_t read_snapshot(const Graph& g) {
  const Graph::ReadLock hold = g.read_lock();
  const std::size_t n = g.node_count();
  g.validate();
  const std::vector<NodeId> order = g.topological_order();
  EXPECT_EQ(order.size(), n);
  for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);  // a chain
  mlops::FingerprintInput input{std::vector<std::string>(n, "code"), {{"p", "digest"}}};
  const std::vector<std::string> keys = mlops::fingerprint_keys(g, input);
  EXPECT_EQ(keys.size(), n);
  const mlops::Plan plan = mlops::plan_stored(g, std::vector<bool>(n, false), {}, {}, false);
  EXPECT_EQ(plan.to_run.size(), n);
  mlops::Scheduler scheduler(g, mlops::initial_states(plan));
  EXPECT_EQ(scheduler.states().size(), n);
  EXPECT_EQ(g.levels().size(), n);
  return n;
}

TEST(GraphThreads, ReadersSeeConsistentSnapshotsWhileNodesAreAdded) {
  constexpr std::size_t kNodes = 1500;
  Graph g;
  g.add_node(chain_node(0));
  std::atomic<bool> done{false};
  std::atomic<std::size_t> passes{0};
  std::thread writer([&] {
    while (passes == 0) std::this_thread::yield();  // start once the readers read
    for (std::size_t i = 1; i < kNodes; ++i) {
      if (i % 3 == 0) {
        const NodeSpec spec = chain_node(i);
        g.add_nodes(std::span(&spec, 1));
      } else {
        g.add_node(chain_node(i));
      }
    }
    done = true;
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      std::size_t last = 0;
      do {
        const std::size_t seen = read_snapshot(g);
        EXPECT_GE(seen, last);  // the graph only grows
        last = seen;
        // Whole-graph calls without an explicit hold take the lock themselves.
        EXPECT_GE(Graph(g).topological_order().size(), seen);
        EXPECT_FALSE(g.select({{}, {"n0"}, {}, {}}).empty());
        ++passes;
      } while (!done);
    });
  }
  writer.join();
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(read_snapshot(g), kNodes);
  EXPECT_GT(passes.load(), 3u);
}

TEST(GraphThreads, AddingWhileThisThreadReadsIsAnErrorNotADeadlock) {
  Graph g;
  g.add_node(chain_node(0));
  {
    const Graph::ReadLock hold = g.read_lock();
    const Graph::ReadLock nested = g.read_lock();  // re-entrant
    EXPECT_THROW(g.add_node(chain_node(1)), std::logic_error);
  }
  EXPECT_EQ(g.add_node(chain_node(1)), 1u);
}

TEST(GraphThreads, AWriterWaitsForAReaderToFinish) {
  Graph g;
  g.add_node(chain_node(0));
  std::atomic<bool> added{false};
  std::thread writer;
  {
    const Graph::ReadLock hold = g.read_lock();
    writer = std::thread([&] {
      g.add_node(chain_node(1));
      added = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(added.load());
    EXPECT_EQ(g.node_count(), 1u);
  }
  writer.join();
  EXPECT_TRUE(added.load());
}

TEST(GraphThreads, ASchedulerKeepsItsSnapshotWhenNodesArriveLater) {
  Graph g;
  g.add_node(chain_node(0));
  g.add_node(chain_node(1));
  mlops::Scheduler scheduler(g, std::vector<mlops::NodeState>(2, mlops::NodeState::pending));
  g.add_node(chain_node(2));
  std::vector<NodeId> ran;
  while (!scheduler.finished()) {
    for (NodeId v : scheduler.take_ready()) {
      ran.push_back(v);
      scheduler.succeed(v);
    }
  }
  EXPECT_EQ(ran, (std::vector<NodeId>{0, 1}));
}

}  // namespace

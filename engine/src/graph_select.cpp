// Graph::select: the nodes a run covers, from only/from/to/tags.
#include <string>

#include "graph_impl.hpp"
#include "mlops/errors.hpp"

namespace mlops {

namespace {

std::string describe(const char* what, const std::vector<std::string>& names) {
  std::string text = std::string(what) + (names.size() == 1 ? " " : "s ");
  for (std::size_t i = 0; i < names.size(); ++i) text += (i ? ", '" : "'") + names[i] + "'";
  return text;
}

std::string describe_selection(const Selection& s) {
  std::string text;
  auto add = [&](const char* key, const std::vector<std::string>& names) {
    if (names.empty()) return;
    text += text.empty() ? "" : ", ";
    text += std::string(key) + "=[";
    for (std::size_t i = 0; i < names.size(); ++i) text += (i ? ", '" : "'") + names[i] + "'";
    text += "]";
  };
  add("only", s.only);
  add("from", s.from);
  add("to", s.to);
  add("tags", s.tags);
  return text;
}

}  // namespace

std::vector<NodeId> Graph::select(const Selection& selection) const {
  const ReadLock hold = read_lock();
  const auto& g = impl_->data;
  const std::size_t n = g.node_count();
  std::vector<std::string> unknown_nodes;
  std::vector<std::string> unknown_tags;
  auto resolve = [&](const std::vector<std::string>& names) {
    std::vector<NodeId> ids;
    for (const std::string& name : names) {
      if (auto id = g.nodes.find(name)) {
        ids.push_back(*id);
      } else {
        unknown_nodes.push_back(name);
      }
    }
    return ids;
  };
  const std::vector<NodeId> only = resolve(selection.only);
  const std::vector<NodeId> from = resolve(selection.from);
  const std::vector<NodeId> to = resolve(selection.to);
  std::vector<std::uint8_t> wanted_tag(g.tag_names.size(), 0);
  for (const std::string& tag : selection.tags) {
    auto t = g.tag_names.find(tag);
    if (t) wanted_tag[*t] = 1;
    if (!t) unknown_tags.push_back(tag);
  }
  if (!unknown_nodes.empty() || !unknown_tags.empty()) {
    std::string message = "selection names ";
    if (!unknown_nodes.empty()) message += describe("unknown node", unknown_nodes);
    if (!unknown_nodes.empty() && !unknown_tags.empty()) message += " and ";
    if (!unknown_tags.empty()) message += describe("unknown tag", unknown_tags);
    throw SelectionError(message);
  }

  // Each given list votes for its nodes; a node is selected with every vote.
  std::vector<std::uint8_t> votes(n, 0);
  std::uint8_t needed = 0;
  auto vote_list = [&](const std::vector<NodeId>& ids, bool expand, bool forward) {
    // Votes are cast in rounds, so a node voted twice in one round counts once.
    std::vector<NodeId> all = ids;
    if (expand) {
      const std::vector<NodeId> more = forward ? descendants(ids) : ancestors(ids);
      all.insert(all.end(), more.begin(), more.end());
    }
    for (NodeId v : all) {
      if (votes[v] == needed) votes[v] = static_cast<std::uint8_t>(needed + 1);
    }
    ++needed;
  };
  if (!selection.only.empty()) vote_list(only, false, false);
  if (!selection.from.empty()) vote_list(from, true, true);
  if (!selection.to.empty()) vote_list(to, true, false);
  if (!selection.tags.empty()) {
    std::vector<NodeId> tagged;
    for (NodeId v = 0; v < n; ++v) {
      for (std::uint32_t i = g.tag_begin[v]; i < g.tag_begin[v + 1]; ++i) {
        if (wanted_tag[g.tag_id[i]]) {
          tagged.push_back(v);
          break;
        }
      }
    }
    vote_list(tagged, false, false);
  }

  std::vector<NodeId> selected;
  for (NodeId v : impl_->derived().topo_order) {
    if (votes[v] == needed) selected.push_back(v);
  }
  if (selected.empty()) {
    throw SelectionError(selection.empty() ? std::string("the graph has no nodes")
                                           : "the selection " + describe_selection(selection) +
                                                 " matches no node");
  }
  return selected;
}

}  // namespace mlops

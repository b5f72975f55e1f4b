// Domain errors of the engine. Each maps to one Python exception class in
// django_mlops._engine (see engine/bindings/module.cpp); all definition errors
// share the base PipelineError so users can catch them together.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mlops {

// Base of every error about a pipeline's definition or a selection of it.
class PipelineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A cycle among nodes. `cycle()` lists the node names in order, the first
// repeated at the end: {"a", "b", "c", "a"}.
class CycleError : public PipelineError {
 public:
  CycleError(std::string message, std::vector<std::string> cycle)
      : PipelineError(std::move(message)), cycle_(std::move(cycle)) {}
  const std::vector<std::string>& cycle() const noexcept { return cycle_; }

 private:
  std::vector<std::string> cycle_;
};

// An input dataset that no node produces.
class MissingInputError : public PipelineError {
 public:
  MissingInputError(std::string message, std::string node, std::string dataset)
      : PipelineError(std::move(message)), node_(std::move(node)), dataset_(std::move(dataset)) {}
  const std::string& node() const noexcept { return node_; }
  const std::string& dataset() const noexcept { return dataset_; }

 private:
  std::string node_;
  std::string dataset_;
};

// Two nodes that produce the same dataset.
class DuplicateOutputError : public PipelineError {
 public:
  DuplicateOutputError(std::string message, std::string dataset, std::vector<std::string> producers)
      : PipelineError(std::move(message)),
        dataset_(std::move(dataset)),
        producers_(std::move(producers)) {}
  const std::string& dataset() const noexcept { return dataset_; }
  const std::vector<std::string>& producers() const noexcept { return producers_; }

 private:
  std::string dataset_;
  std::vector<std::string> producers_;
};

// A node name used twice.
class DuplicateNodeError : public PipelineError {
 public:
  DuplicateNodeError(std::string message, std::string node)
      : PipelineError(std::move(message)), node_(std::move(node)) {}
  const std::string& node() const noexcept { return node_; }

 private:
  std::string node_;
};

// A selection (only/from/to/tags) that names an unknown node or tag, selects
// nothing, or needs outputs that are neither selected nor stored.
class SelectionError : public PipelineError {
 public:
  using PipelineError::PipelineError;
};

// A scheduler call that does not fit the node's state (e.g. reporting success
// for a node that is not running). A bug in the caller, not in the pipeline.
class StateError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace mlops

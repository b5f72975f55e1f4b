// The nanobind module django_mlops._engine: registers the exception classes and
// then each area's bindings. Bindings stay thin: no logic lives here.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "mlops/errors.hpp"

namespace nb = nanobind;

namespace {

// Raise `type(message)` with extra attributes set on the instance, so Python
// code can read e.g. `err.cycle` instead of parsing the message.
void raise_with(nb::handle type, const char* message,
                std::initializer_list<std::pair<const char*, nb::object>> attributes) {
  nb::object instance = type(nb::str(message));
  for (const auto& [name, value] : attributes) {
    nb::setattr(instance, name, value);
  }
  PyErr_SetObject(type.ptr(), instance.ptr());
}

}  // namespace

NB_MODULE(_engine, m) {
  m.doc() =
      "The django-mlops engine: DAG graph and validation, selection, fingerprints and "
      "planning, the run scheduler's state machine, and the layered DAG layout.";

  // PipelineError derives from ValueError: a bad definition is a bad value.
  static nb::object pipeline_error =
      nb::borrow(nb::exception<mlops::PipelineError>(m, "PipelineError", PyExc_ValueError));
  static nb::object cycle_error =
      nb::borrow(nb::exception<mlops::CycleError>(m, "CycleError", pipeline_error.ptr()));
  static nb::object missing_input_error = nb::borrow(
      nb::exception<mlops::MissingInputError>(m, "MissingInputError", pipeline_error.ptr()));
  static nb::object duplicate_output_error = nb::borrow(
      nb::exception<mlops::DuplicateOutputError>(m, "DuplicateOutputError", pipeline_error.ptr()));
  static nb::object duplicate_node_error = nb::borrow(
      nb::exception<mlops::DuplicateNodeError>(m, "DuplicateNodeError", pipeline_error.ptr()));
  static nb::object selection_error =
      nb::borrow(nb::exception<mlops::SelectionError>(m, "SelectionError", pipeline_error.ptr()));
  static nb::object state_error =
      nb::borrow(nb::exception<mlops::StateError>(m, "StateError", PyExc_RuntimeError));

  // Most specific first: nanobind tries translators from the newest registered.
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const mlops::CycleError& e) {
      raise_with(cycle_error, e.what(), {{"cycle", nb::cast(e.cycle())}});
    } catch (const mlops::MissingInputError& e) {
      raise_with(missing_input_error, e.what(),
                 {{"node", nb::cast(e.node())}, {"dataset", nb::cast(e.dataset())}});
    } catch (const mlops::DuplicateOutputError& e) {
      raise_with(duplicate_output_error, e.what(),
                 {{"dataset", nb::cast(e.dataset())}, {"producers", nb::cast(e.producers())}});
    } catch (const mlops::DuplicateNodeError& e) {
      raise_with(duplicate_node_error, e.what(), {{"node", nb::cast(e.node())}});
    } catch (const mlops::SelectionError& e) {
      PyErr_SetString(selection_error.ptr(), e.what());
    } catch (const mlops::PipelineError& e) {
      PyErr_SetString(pipeline_error.ptr(), e.what());
    } catch (const mlops::StateError& e) {
      PyErr_SetString(state_error.ptr(), e.what());
    }
  });

  mlops::bindings::declare_graph(m);
  mlops::bindings::declare_scheduler(m);
  mlops::bindings::declare_layout(m);
}

// report.html of a run: loss and accuracy curves (training, and held-out per evaluation length) and the
// attention maps of probe example 0 over training, every layer and head, with a step slider. One standalone
// file built like src/report/html.h's pages (data in a JSON block, inline script, a CSP that forbids any
// network access); it is rebuilt from metrics.jsonl and snapshots/ at every checkpoint and at the end. A
// retrieval run also gets the emergence timeline of its heads' roles and the hop chain of one probe through the
// final model (src/constructions/head_roles.h).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace attnlab {

// The page's data: {title, config, train: {step, loss, acc, lr}, eval: [{step, results}], snapshots: {...}}.
nlohmann::json train_report_data(const std::string& run_dir);
void train_report_write(const std::string& run_dir);  // RUN/report.html, atomically

}  // namespace attnlab

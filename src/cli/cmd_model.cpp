// `attnlab model info|run|view DIR ...` — inspect, run and look inside a model directory.
#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "cli/model_common.h"
#include "model/device.h"
#include "model/weights.h"
#include "util/error.h"

namespace attnlab {

namespace {

struct ModelArgs {
  std::string dir, input, numbers, dtype = "f64", device = "cpu";
  std::string cache_glob, cache_out, html_out;
  int length = 0;
  bool json = false, logits = false;
};

void add_common(CLI::App* sub, ModelArgs& a) {
  sub->add_option("DIR", a.dir, "model directory (config.json + model.safetensors)")->required();
  sub->add_option("--dtype", a.dtype, "f32 or f64")->capture_default_str();
  sub->add_option("--device", a.device, "cpu, cuda or cuda:N")->capture_default_str();
}

void add_input(CLI::App* sub, ModelArgs& a) {
  sub->add_option("-i,--input", a.input, "tokens: space-separated, or characters when every token is one char");
  sub->add_option("--numbers", a.numbers, "real-valued inputs: positions separated by ';', values by ','");
}

void model_info(const ModelArgs& a) {
  cli_runtime_init();
  auto model = model_load(a.dir, torch::kFloat64);
  const auto& c = model->config();
  std::cout << "model: " << a.dir << "\n"
            << config_to_json(c).dump(2) << "\n"
            << "parameters: " << model_parameter_count(model) << "\n";
  int64_t T = a.length > 0 ? a.length : (c.n_ctx > 0 ? std::min(c.n_ctx, 8) : 8);
  check(c.n_ctx == 0 || T <= c.n_ctx, "--length " + std::to_string(T) + " exceeds n_ctx " + std::to_string(c.n_ctx),
        "choose a length <= n_ctx");
  ModelInput in;
  if (c.d_vocab > 0) in.tokens = torch::zeros({1, T}, torch::kInt64);
  if (c.d_in_num > 0) in.numbers = torch::zeros({1, T, c.d_in_num}, torch::kFloat64);
  Hooks hooks;
  hooks.cache_add("*");
  torch::NoGradGuard no_grad;
  model->forward(in, &hooks);
  std::cout << "hooks (batch 1, length " << T << "):\n";
  for (const auto& [name, t] : hooks.cache()) std::cout << "  " << name << " " << t.sizes() << "\n";
}

void model_run(const ModelArgs& a) {
  cli_runtime_init();
  auto dtype = dtype_from_string(a.dtype);
  auto device = device_from_string(a.device);
  check(a.cache_out.empty() || !a.cache_glob.empty(), "--cache-out given without --cache GLOB",
        "add e.g. --cache 'blocks.*.attn.hook_pattern'");
  check(a.cache_glob.empty() || !a.cache_out.empty(), "--cache given without --cache-out FILE.safetensors",
        "add --cache-out cache.safetensors");
  auto model = model_load(a.dir, dtype, device);
  const auto& cfg = model->config();
  CliInput in = cli_input_parse(cfg, a.input, a.numbers, dtype);
  if (in.input.tokens.defined()) in.input.tokens = in.input.tokens.to(device);
  if (in.input.numbers.defined()) in.input.numbers = in.input.numbers.to(device);
  Hooks hooks;
  if (!a.cache_glob.empty()) hooks.cache_add(a.cache_glob);
  torch::NoGradGuard no_grad;
  auto logits = model->forward(in.input, &hooks).to(torch::kCPU, torch::kFloat64);
  if (!cfg.bos.empty() && logits.size(1) > 1) {  // the BOS position is the model's, not the user's: drop it
    logits = logits.narrow(1, 1, logits.size(1) - 1);
    in.tokens.erase(in.tokens.begin());
  }
  auto outputs = outputs_decode(cfg, logits);
  if (!a.cache_out.empty()) {
    check(!hooks.cache().empty(), "--cache '" + a.cache_glob + "' matched no hook name",
          "list the hook names with `attnlab model info " + a.dir + "`");
    tensors_write(a.cache_out, hooks.cache(), {{"input", a.input}, {"model", a.dir}});
  }
  const int64_t first = logits.size(1) == 1 && in.tokens.size() > 1 ? static_cast<int64_t>(in.tokens.size()) - 1 : 0;
  if (a.json) {
    nlohmann::json j = {{"model", a.dir}, {"tokens", in.tokens}, {"outputs", outputs}};
    if (a.logits) {
      std::vector<std::vector<double>> rows;
      for (int64_t t = 0; t < logits.size(1); ++t) {
        auto r = logits[0][t].contiguous();
        rows.emplace_back(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
      }
      j["logits"] = rows;
    }
    if (!a.cache_out.empty()) j["cache"] = a.cache_out;
    std::cout << j.dump() << "\n";
    return;
  }
  std::printf("%-5s %-16s %s\n", "pos", "input", "output");
  for (size_t t = 0; t < outputs.size(); ++t) {
    int64_t pos = first + static_cast<int64_t>(t);
    std::printf("%-5ld %-16s %s", static_cast<long>(pos), in.tokens[pos].c_str(), outputs[t].c_str());
    if (a.logits) {
      std::printf("   logits:");
      for (int64_t o = 0; o < logits.size(2); ++o) std::printf(" %.6g", logits[0][t][o].item<double>());
    }
    std::printf("\n");
  }
  if (!a.cache_out.empty()) std::printf("cache: %zu tensors -> %s\n", hooks.cache().size(), a.cache_out.c_str());
}

void model_view(const ModelArgs& a) {
  cli_runtime_init();
  auto dtype = dtype_from_string(a.dtype);
  auto model = model_load(a.dir, dtype, device_from_string(a.device));
  CliInput in = cli_input_parse(model->config(), a.input, a.numbers, dtype);
  auto view = attention_view_build(model, in, "attention — " + a.dir);
  attention_view_write(a.html_out, view);
  std::cout << "wrote " << a.html_out << "\n";
}

}  // namespace

void cmd_model_register(CLI::App& app) {
  auto* model = app.add_subcommand("model", "inspect, run and view model directories");
  model->require_subcommand(1);
  static ModelArgs a;

  auto* info = model->add_subcommand("info", "config, parameter count, and every hook name with its shape");
  add_common(info, a);
  info->add_option("--length", a.length, "input length for the hook shapes (default min(n_ctx, 8))")
      ->check(CLI::PositiveNumber);
  info->callback([] { model_info(a); });

  auto* run = model->add_subcommand("run", "run a model on one input; print the output per position");
  add_common(run, a);
  add_input(run, a);
  run->add_flag("--json", a.json, "machine-readable output");
  run->add_flag("--logits", a.logits, "also print the logits");
  run->add_option("--cache", a.cache_glob, "cache activations whose hook name matches this glob");
  run->add_option("--cache-out", a.cache_out, "write the cached activations to this .safetensors file");
  run->callback([] { model_run(a); });

  auto* view = model->add_subcommand("view", "write a self-contained HTML view of the attention patterns");
  add_common(view, a);
  add_input(view, a);
  view->add_option("-o,--out", a.html_out, "output HTML file")->required();
  view->callback([] { model_view(a); });
}

}  // namespace attnlab

// `quantize`: one method, a per-layer report and the model-level cost.
// `compare`: several methods on the same calibration set and evaluation windows, side by side.
#include "commands.hpp"
#include "quant_job.hpp"

#include "core/quant/method.hpp"
#include "core/util/error.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <sstream>

namespace qs::cli {

namespace {

nlohmann::json layerJson(const quant::LayerReport& l)
{
    return {{"name", l.name}, {"format", l.format}, {"bits_per_weight", l.bitsPerWeight},
            {"weight_mse", l.weightMse}, {"sqnr_db", l.sqnrDb}, {"output_rel_error", l.outputRelError},
            {"seconds", l.seconds}, {"choices", l.choices}};
}

nlohmann::json outcomeJson(const MethodOutcome& m, const eval::ReferenceWindows& ref, bool withLayers)
{
    nlohmann::json j = {{"method", m.run.config.method},
                        {"config", m.run.config.describe()},
                        {"bits_per_weight", m.run.bitsPerWeight},
                        {"model_bytes", m.run.modelBytes},
                        {"perplexity", m.eval.perplexity.perplexity()},
                        {"original_perplexity", ref.perplexity.perplexity()},
                        {"kl_mean", m.eval.vsOriginal.meanKl},
                        {"kl_max", m.eval.vsOriginal.maxKl},
                        {"top1_agreement", m.eval.vsOriginal.top1Agreement},
                        {"top_prob_change_mean", m.eval.vsOriginal.meanTopProbChange},
                        {"top_prob_change_rms", m.eval.vsOriginal.rmsTopProbChange},
                        {"layer_error_mean", m.run.meanOutputError()},
                        {"layer_error_worst", m.run.worstOutputError()},
                        {"seconds", m.run.seconds},
                        {"peak_rss_bytes", m.run.peakRssBytes},
                        {"eval_positions", m.eval.vsOriginal.positions}};
    if (withLayers) {
        auto& arr = j["layers"] = nlohmann::json::array();
        for (const auto& l : m.run.layers)
            arr.push_back(layerJson(l));
    }
    return j;
}

void printTableHeader()
{
    std::printf("%-34s %6s %10s %10s %10s %8s %9s %9s %8s\n", "method", "bits/w", "size", "ppl", "KL", "top-1",
                "err mean", "err worst", "time");
}

void printTableRow(const std::string& label, const MethodOutcome& m)
{
    std::printf("%-34s %6.3f %10s %10.4f %10.6f %7.2f%% %9.5f %9.5f %7.1fs\n", label.c_str(), m.run.bitsPerWeight,
                humanBytes(double(m.run.modelBytes)).c_str(), m.eval.perplexity.perplexity(), m.eval.vsOriginal.meanKl,
                100.0 * m.eval.vsOriginal.top1Agreement, m.run.meanOutputError(), m.run.worstOutputError(),
                m.run.seconds);
}


} // namespace

Command addQuantizeCommand(CLI::App& app)
{
    auto o = std::make_shared<QuantRunOptions>();
    auto* cmd = app.add_subcommand("quantize", "Quantize with one method and report every layer and the model's cost");
    cmd->add_option("--method", o->config.method, "rtn, absmax, smoothquant, gptq, awq, nf4")
        ->required()
        ->check(CLI::IsMember(quant::methodNames()));
    addRunOptions(*cmd, *o);
    return {cmd, [o] {
                o->config = configFor(*o, o->config.method);
                auto session = prepareSession(*o);
                const auto outcome = runMethod(session, *o, o->config);
                if (o->json) {
                    std::printf("%s\n", outcomeJson(outcome, session.reference, true).dump(2).c_str());
                    return 0;
                }
                std::printf("%-40s %-16s %7s %11s %9s %10s\n", "layer", "format", "bits/w", "weight MSE", "SQNR dB",
                            "out error");
                for (const auto& l : outcome.run.layers)
                    std::printf("%-40s %-16s %7.3f %11.3e %9.2f %10.6f\n", l.name.c_str(), l.format.c_str(),
                                l.bitsPerWeight, l.weightMse, l.sqnrDb, l.outputRelError);
                std::printf("\nOriginal perplexity %.4f on %zu windows of %d tokens\n",
                            session.reference.perplexity.perplexity(), session.reference.windows.size(),
                            session.reference.ctx);
                printTableHeader();
                printTableRow(o->config.describe(), outcome);
                return 0;
            }};
}

Command addCompareCommand(CLI::App& app)
{
    auto o = std::make_shared<QuantRunOptions>();
    auto methods = std::make_shared<std::string>("all");
    auto* cmd = app.add_subcommand("compare", "Several methods on the same calibration set, side by side");
    cmd->add_option("--methods", *methods, "Comma-separated list or \"all\"");
    addRunOptions(*cmd, *o);
    return {cmd, [o, methods] {
                std::vector<std::string> names;
                if (*methods == "all") {
                    names = quant::methodNames();
                } else {
                    std::stringstream ss(*methods);
                    for (std::string n; std::getline(ss, n, ',');)
                        names.push_back(n);
                }
                for (const auto& n : names)
                    quant::makeMethod(configFor(*o, n)); // validates names and settings before any work
                auto session = prepareSession(*o);
                nlohmann::json all = nlohmann::json::array();
                std::vector<std::pair<std::string, MethodOutcome>> rows;
                for (const auto& n : names) {
                    const quant::QuantConfig c = configFor(*o, n);
                    rows.emplace_back(c.describe(), runMethod(session, *o, c));
                    all.push_back(outcomeJson(rows.back().second, session.reference, false));
                }
                if (o->json) {
                    nlohmann::json j = {{"model", session.model.source.string()},
                                        {"original_perplexity", session.reference.perplexity.perplexity()},
                                        {"ctx", session.reference.ctx},
                                        {"windows", session.reference.windows.size()},
                                        {"calibration", {{"samples", session.calibration.samples.size()},
                                                         {"length", session.calibration.length}}},
                                        {"methods", all}};
                    std::printf("%s\n", j.dump(2).c_str());
                    return 0;
                }
                std::printf("Original perplexity %.4f on %zu windows of %d tokens; calibration %zu x %d tokens\n",
                            session.reference.perplexity.perplexity(), session.reference.windows.size(),
                            session.reference.ctx, session.calibration.samples.size(), session.calibration.length);
                printTableHeader();
                for (const auto& [label, m] : rows)
                    printTableRow(label, m);
                return 0;
            }};
}

} // namespace qs::cli

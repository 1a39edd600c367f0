#include "core/export/export.hpp"

#include "core/export/gguf_export.hpp"
#include "core/export/hf_export.hpp"
#include "core/util/error.hpp"

#include <array>
#include <chrono>

namespace qs::exporting {

namespace {

struct FormatEntry {
    ExportFormat format;
    const char* name;
};
constexpr std::array<FormatEntry, 5> kFormats{{{ExportFormat::Gguf, "gguf"},
                                               {ExportFormat::Gptq, "gptq"},
                                               {ExportFormat::Awq, "awq"},
                                               {ExportFormat::BnbNf4, "bnb-nf4"},
                                               {ExportFormat::W8a8, "w8a8"}}};

[[noreturn]] void notBuilt(ExportFormat f)
{
    throw Error(std::string("export: format ") + exportFormatName(f) + " is not built yet");
}

} // namespace

const char* exportFormatName(ExportFormat f)
{
    for (const auto& e : kFormats)
        if (e.format == f)
            return e.name;
    return "?";
}

const std::vector<std::string>& exportFormatNames()
{
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& e : kFormats)
            v.emplace_back(e.name);
        return v;
    }();
    return names;
}

ExportFormat parseExportFormat(const std::string& name)
{
    for (const auto& e : kFormats)
        if (name == e.name)
            return e.format;
    std::string choices;
    for (const auto& e : kFormats)
        choices += std::string(choices.empty() ? "" : ", ") + e.name;
    throw Error("unknown export format \"" + name + "\" (choose one of " + choices + ")");
}

bool exportsFolder(ExportFormat f)
{
    return f != ExportFormat::Gguf;
}

ExportResult exportModel(const ExportRequest& request, jobs::Progress* progress)
{
    if (!request.source || !request.source->checkpoint)
        throw Error("export: no source model");
    if (request.output.empty())
        throw Error("export: no output path given");
    const auto start = std::chrono::steady_clock::now();
    ExportResult result;
    switch (request.format) {
    case ExportFormat::Gguf: result = exportGguf(request, progress); break;
    case ExportFormat::Gptq: result = exportHfGptq(request, progress); break;
    case ExportFormat::Awq: result = exportHfAwq(request, progress); break;
    case ExportFormat::BnbNf4: result = exportHfBnbNf4(request, progress); break;
    case ExportFormat::W8a8: result = exportHfW8a8(request, progress); break;
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

} // namespace qs::exporting

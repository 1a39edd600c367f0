#include "ui/metrics/linear_scan.hpp"

#include "core/model/layer_tree.hpp"
#include "core/tensor/stats.hpp"

#include <algorithm>
#include <array>

namespace qs::ui {

namespace {

int roleIndex(const std::string& role)
{
    static const std::array<const char*, 7> roles{"q", "k", "v", "o", "gate", "up", "down"};
    for (std::size_t i = 0; i < roles.size(); ++i)
        if (role == roles[i])
            return int(i);
    return -1;
}

void collect(const model::LayerNode& node, std::vector<LinearEntry>& out)
{
    if (node.kind == model::LayerNode::Kind::Tensor && node.tensor && node.block >= 0 && node.param == "weight"
        && node.tensor->shape.size() == 2) {
        const int role = roleIndex(node.role);
        if (role >= 0)
            out.push_back({node.tensor->name, node.block, role, node.tensor->shape, node.tensor->numel()});
    }
    for (const auto& child : node.children)
        collect(child, out);
}

} // namespace

std::vector<LinearEntry> findLinears(const model::Model& model)
{
    std::vector<LinearEntry> out;
    if (!model.checkpoint)
        return out;
    collect(model::buildLayerTree(*model.checkpoint), out);
    std::stable_sort(out.begin(), out.end(), [](const LinearEntry& a, const LinearEntry& b) {
        return a.block != b.block ? a.block < b.block : a.role < b.role;
    });
    return out;
}

std::vector<LinearStats> scanLinears(const io::Checkpoint& checkpoint, const std::vector<LinearEntry>& linears,
                                     jobs::Progress& progress)
{
    progress.beginStage("weight statistics of " + std::to_string(linears.size()) + " linears");
    std::vector<LinearStats> out(linears.size());
    for (std::size_t i = 0; i < linears.size(); ++i) {
        progress.report(double(i) / double(std::max<std::size_t>(1, linears.size())));
        const Tensor t = checkpoint.readF32(linears[i].tensorName);
        const TensorStats s = computeStats(t.data, 1);
        out[i] = {true, s.absmax, s.kurtosis, s.beyond6Sigma};
    }
    progress.report(1.0);
    return out;
}

} // namespace qs::ui

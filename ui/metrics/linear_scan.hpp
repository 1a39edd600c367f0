#pragma once
// The linears of a model, found in its layer tree, and their weight statistics, computed on a
// worker tensor by tensor (cancellable between tensors).
#include "core/io/checkpoint.hpp"
#include "core/jobs/progress.hpp"
#include "core/model/model.hpp"

#include <string>
#include <vector>

namespace qs::ui {

struct LinearEntry {
    std::string tensorName;  // "model.layers.3.mlp.down_proj.weight"
    int block = 0;
    int role = 0;            // runtime::LinearRole as int: q k v o gate up down
    Shape shape;
    std::int64_t params = 0;
};

struct LinearStats {
    bool known = false;
    double absmax = 0, kurtosis = 0;
    std::uint64_t beyond6Sigma = 0; // the outlier count: |w - mean| > 6 std
};

// Linears of decoder blocks in model order (block, then q k v o gate up down): row
// block * 7 + role for Llama-family models, the order quantization reports use.
std::vector<LinearEntry> findLinears(const model::Model& model);

std::vector<LinearStats> scanLinears(const io::Checkpoint& checkpoint, const std::vector<LinearEntry>& linears,
                                     jobs::Progress& progress);

} // namespace qs::ui

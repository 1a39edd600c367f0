// gemv_mma.comp assumes the driver lays out 16x8 cooperative-matrix fragments as PTX m16n8k16
// does; it checks that at run time and writes NaN where it does not. Before its first use the
// backend runs it once on a small random product against the CPU twin: where that fails (as on
// the H100's driver 580, docs/benchmarks.md), the 4-bit GEMV stays on gemv.comp.
#include "core/compute/normalized_error.hpp"
#include "core/compute/random_weights.hpp"
#include "core/compute/vulkan/vulkan_backend_impl.hpp"

#include <spdlog/spdlog.h>

#include <random>

namespace qs::compute {

bool VulkanBackend::Impl::gemvMmaWorks()
{
    if (gemvMmaChecked >= 0)
        return gemvMmaChecked != 0;
    gemvMmaChecked = 0;  // also while it throws
    try {
        constexpr int m = 3, n = 48, k = 256;
        std::mt19937 rng(20261124);
        auto wm = std::make_shared<const WeightMatrix>(randomWeights("int4-g128-sym", n, k, rng));
        VulkanWeights vw(wm, engine);
        upload(vw);
        if (!vw.onGpu || !vw.hasGemvMma)
            return false;
        const auto x = randomNormal(std::size_t(m) * k, rng);
        std::vector<float> y(std::size_t(m) * n), ref(y.size());
        const GemvTuning saved = gemvTuning;
        gemvTuning = GemvTuning{};
        gemvTuning.mma = true;
        gemvMmaChecked = 2;  // the product below takes gemv_mma.comp
        const VulkanWeights* one[1] = {&vw};
        const bool ran = gemm(x.data(), m, one, 1, y.data()) && lastPath == int(GemmPath::GemvMma);
        gemvTuning = saved;
        gemvMmaChecked = 0;
        residentX = nullptr;  // the check reused xBuf and xhBuf
        residentXh = nullptr;
        cpu.dequantGemm(x.data(), m, *cpu.prepare(wm), ref.data());
        const double err = normalizedError(y.data(), ref.data(), y.size());
        gemvMmaChecked = ran && err < 2e-3 ? 1 : 0;
        if (gemvMmaChecked == 0)
            spdlog::warn("vulkan: gemv_mma.comp fails its fragment-layout check on {} (normalized error {}); the 4-bit GEMV "
                         "uses gemv.comp",
                         dev().info.name, err);
    } catch (const std::exception& e) {
        gemvMmaChecked = 0;
        residentX = nullptr;
        residentXh = nullptr;
        spdlog::warn("vulkan: gemv_mma.comp's check failed: {}", e.what());
    }
    return gemvMmaChecked != 0;
}

} // namespace qs::compute

#pragma once
// Internal: the Vulkan side of Backend's f32 matrices and gemmF32 (gemm_f32.comp). Matrices live
// in one device buffer each, row-major; a product binds them in row ranges that fit a storage
// binding (128 MiB on lavapipe) and sums over K in pieces where B's rows must be split.
#include "core/compute/backend.hpp"
#include "core/compute/vulkan/vk_engine.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace qs::compute::vk {

// An F32Matrix in device memory; keeps the engine alive.
class DeviceF32Matrix final : public F32Matrix {
public:
    DeviceF32Matrix(int rows, int cols, std::shared_ptr<Engine> engine);  // zero-filled; throws VkError
    ~DeviceF32Matrix() override;
    Buffer buf;

private:
    std::shared_ptr<Engine> engine_;
};

// The product's work split: a BM x BN tile of C per workgroup, TM x TN per thread.
struct GemmF32Tile {
    std::uint32_t bm, bn, tm, tn;
};

class GemmF32 {
public:
    explicit GemmF32(std::shared_ptr<Engine> engine);
    ~GemmF32();
    GemmF32(const GemmF32&) = delete;
    GemmF32& operator=(const GemmF32&) = delete;

    void write(DeviceF32Matrix& m, int row, int col, int rows, int cols, const float* src, std::int64_t ld);
    void read(const DeviceF32Matrix& m, int row, int col, int rows, int cols, float* dst, std::int64_t ld);
    // Arguments checked by the caller. False where the shape cannot be split into bindings and
    // dispatches (the caller computes it on the CPU); VkError on a device failure. ms: GPU time.
    bool gemm(const F32Block& a, bool transA, const F32Block& b, bool transB, float* c, std::int64_t ldc, double& ms);

    void setMaxBinding(std::uint64_t bytes) { maxBinding_ = bytes; }
    // 0: by shape and device; 1: 64x64 tiles, 4x4 per thread; 2: 128x128, 8x8.
    void setTileMode(int mode) { tileMode_ = mode; }

private:
    GemmF32Tile tileFor(std::uint64_t m, std::uint64_t n) const;
    std::shared_ptr<Engine> engine_;
    Buffer out_;
    std::vector<float> packed_;  // C before it goes out at the caller's row stride
    std::uint64_t maxBinding_ = 0;
    int tileMode_ = 0;
};

} // namespace qs::compute::vk

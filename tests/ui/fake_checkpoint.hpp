#pragma once
// A checkpoint that is only a list of tensor infos, for item-model tests that need no files.
#include "core/io/checkpoint.hpp"
#include "core/model/model.hpp"
#include "core/util/error.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace qs::test {

class FakeCheckpoint : public io::Checkpoint {
public:
    explicit FakeCheckpoint(std::vector<io::TensorInfo> t) : tensors_(std::move(t)) {}
    std::string format() const override { return "fake"; }
    const std::filesystem::path& path() const override { return path_; }
    const std::vector<io::TensorInfo>& tensors() const override { return tensors_; }
    Tensor readF32(const std::string& name) const override { throw io::NotFoundError(name); }

private:
    std::filesystem::path path_ = "/models/fake";
    std::vector<io::TensorInfo> tensors_;
};

inline io::TensorInfo fakeTensor(std::string name, Shape shape, std::string dtype = "BF16")
{
    io::TensorInfo t;
    t.name = std::move(name);
    t.shape = std::move(shape);
    t.dtype = std::move(dtype);
    t.nbytes = static_cast<std::uint64_t>(numelOf(t.shape)) * (t.dtype == "F32" ? 4 : 2);
    t.file = "/models/fake/model.safetensors";
    t.offset = 8;
    return t;
}

inline std::shared_ptr<const model::Model> fakeModel(std::vector<io::TensorInfo> tensors)
{
    auto m = std::make_shared<model::Model>();
    m->source = "/models/fake";
    m->checkpoint = std::make_unique<FakeCheckpoint>(std::move(tensors));
    m->spec.architecture = "LlamaForCausalLM";
    m->spec.supported = true;
    return m;
}

} // namespace qs::test

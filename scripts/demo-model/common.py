"""Helpers shared by train.py and make_fixtures.py (run on the GPU machine)."""
import transformers

TF_MAJOR = int(transformers.__version__.split(".")[0])


def rope_kwargs(theta, scaling=None):
    """Config kwargs for RoPE across transformers 4.x (rope_theta/rope_scaling) and 5.x
    (rope_parameters)."""
    if TF_MAJOR >= 5:
        d = {"rope_type": "default", "rope_theta": float(theta)}
        if scaling:
            d.update(scaling)
        return {"rope_parameters": d}
    kw = {"rope_theta": float(theta)}
    if scaling:
        kw["rope_scaling"] = dict(scaling)
    return kw


def save_kwargs():
    """transformers 5 removed save_pretrained's safe_serialization (always safetensors)."""
    return {} if TF_MAJOR >= 5 else {"safe_serialization": True}

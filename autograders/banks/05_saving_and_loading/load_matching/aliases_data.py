# Sets each fitting Parameter's .data (and each buffer) to the given tensor itself: nothing is copied, the model now shares memory with state_dict.
def load_matching(model, state_dict):
    own = model.state_dict()
    loaded = sorted(k for k, v in state_dict.items() if k in own and own[k].shape == v.shape)
    for key in loaded:
        module_name, _, attr = key.rpartition(".")
        module = model.get_submodule(module_name)
        if attr in module._parameters:
            module._parameters[attr].data = state_dict[key]
        else:
            module._buffers[attr] = state_dict[key]
    return loaded, sorted(k for k in state_dict if k not in loaded)

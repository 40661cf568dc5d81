# Returns loaded and skipped in the order of the state_dict instead of sorted.
def load_matching(model, state_dict):
    own = model.state_dict()
    fitting = {k: v for k, v in state_dict.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(fitting, strict=False)
    return list(fitting), [k for k in state_dict if k not in fitting]

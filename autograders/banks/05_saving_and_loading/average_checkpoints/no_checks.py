# Checks nothing: a later state_dict with an extra key passes, a shape mismatch raises RuntimeError, not ValueError.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("nothing to average")
    first = state_dicts[0]
    return {k: (torch.stack([sd[k].double() for sd in state_dicts]).mean(dim=0).to(v.dtype)
                if v.is_floating_point() else state_dicts[-1][k]) for k, v in first.items()}

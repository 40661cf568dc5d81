# Averages in each entry's own dtype (float32 stays float32) instead of float64: digits are lost.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("nothing to average")
    first = state_dicts[0]
    for sd in state_dicts[1:]:
        if set(sd) != set(first) or any(sd[k].shape != v.shape for k, v in first.items()):
            raise ValueError("the state_dicts do not match")
    return {k: torch.stack([sd[k] for sd in state_dicts]).mean(dim=0) if v.is_floating_point()
            else state_dicts[-1][k] for k, v in first.items()}

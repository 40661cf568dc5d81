# Averages every entry, integer buffers too: num_batches_tracked becomes a truncated mean instead of the last count.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("nothing to average")
    first = state_dicts[0]
    for sd in state_dicts[1:]:
        if set(sd) != set(first) or any(sd[k].shape != v.shape for k, v in first.items()):
            raise ValueError("the state_dicts do not match")
    return {k: torch.stack([sd[k].double() for sd in state_dicts]).mean(dim=0).to(v.dtype)
            for k, v in first.items()}

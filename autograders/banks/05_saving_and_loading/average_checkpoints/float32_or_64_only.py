# Averages only float32 and float64 entries: float16 (and bfloat16) entries are taken from the last state_dict as if they were integers.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("empty")
    first = state_dicts[0]
    for sd in state_dicts:
        if set(sd) != set(first) or any(sd[k].shape != first[k].shape for k in first):
            raise ValueError("keys or shapes differ")
    return {k: (sum(sd[k].double() for sd in state_dicts) / len(state_dicts)).to(v.dtype)
            if v.dtype in (torch.float32, torch.float64) else state_dicts[-1][k].clone() for k, v in first.items()}

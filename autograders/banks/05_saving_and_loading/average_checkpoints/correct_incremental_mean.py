# Correct: an incremental mean in float64 (avg += (x - avg) / n), validated with shape dicts; builds the result at the end.
def average_checkpoints(state_dicts):
    if len(state_dicts) == 0:
        raise ValueError("no state_dicts to average")
    shapes = {k: tuple(v.shape) for k, v in state_dicts[0].items()}
    for sd in state_dicts:
        if {k: tuple(v.shape) for k, v in sd.items()} != shapes:
            raise ValueError("the state_dicts differ in keys or shapes")
    result = {}
    for key, value in state_dicts[0].items():
        if not torch.is_floating_point(value):
            result[key] = state_dicts[-1][key].clone()
            continue
        mean = torch.zeros(value.shape, dtype=torch.float64)
        for n, sd in enumerate(state_dicts, start=1):
            mean += (sd[key].to(torch.float64) - mean) / n
        result[key] = mean.to(value.dtype)
    return result

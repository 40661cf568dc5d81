# Correct: finds each entry with get_parameter / get_buffer and copies it under no_grad; returns a tuple of sorted lists.
def load_matching(model, state_dict):
    own = model.state_dict()
    loaded = []
    with torch.no_grad():
        for key, value in state_dict.items():
            if key not in own or own[key].shape != value.shape:
                continue
            try:
                target = model.get_parameter(key)
            except AttributeError:
                target = model.get_buffer(key)
            target.copy_(value)
            loaded.append(key)
    return sorted(loaded), sorted(set(state_dict) - set(loaded))

# Pairs the entries by position instead of by key: a dict listed in another order loads into the wrong places.
def load_matching(model, state_dict):
    own = model.state_dict()
    loaded = []
    with torch.no_grad():
        for (own_key, target), (key, value) in zip(own.items(), state_dict.items()):
            if target.shape == value.shape:
                target.copy_(value)
                loaded.append(key)
    return sorted(loaded), sorted(k for k in state_dict if k not in loaded)

# Loads whatever copy_ accepts: a (1,) entry is broadcast into a (3,) bias instead of being skipped.
def load_matching(model, state_dict):
    own = model.state_dict()
    loaded, skipped = [], []
    with torch.no_grad():
        for key, value in state_dict.items():
            try:
                own[key].copy_(value)
                loaded.append(key)
            except (KeyError, RuntimeError):
                skipped.append(key)
    return sorted(loaded), sorted(skipped)

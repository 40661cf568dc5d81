# Correct: copies under no_grad into the model's own state_dict tensors, which share memory with the model.
def load_matching(model, state_dict):
    own = model.state_dict()
    loaded, skipped = [], []
    with torch.no_grad():
        for key, value in state_dict.items():
            if key in own and tuple(own[key].shape) == tuple(value.shape):
                own[key].copy_(value)
                loaded.append(key)
            else:
                skipped.append(key)
    loaded.sort()
    skipped.sort()
    return loaded, skipped

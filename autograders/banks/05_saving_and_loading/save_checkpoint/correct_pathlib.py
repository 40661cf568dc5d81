# Correct: builds the dict with dict(), passes a pathlib.Path and an explicit pickle protocol.
import pathlib


def save_checkpoint(path, model, optimizer, epoch):
    state = dict(model=model.state_dict(), optimizer=optimizer.state_dict(), epoch=epoch)
    torch.save(state, pathlib.Path(path), pickle_protocol=2)

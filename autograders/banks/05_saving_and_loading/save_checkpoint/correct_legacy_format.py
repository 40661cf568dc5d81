# Correct: deep-copies both state_dicts and writes torch.save's legacy (non-zip) format, which weights_only=True still reads.
import copy


def save_checkpoint(path, model, optimizer, epoch):
    checkpoint = dict(model=copy.deepcopy(model.state_dict()), optimizer=copy.deepcopy(optimizer.state_dict()),
                      epoch=epoch)
    torch.save(checkpoint, path, _use_new_zipfile_serialization=False)

# Subclasses nn.Sequential instead of building the container on nn.Module
class MySequential(nn.Sequential):
    pass

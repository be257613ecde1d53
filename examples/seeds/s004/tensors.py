# Seed 004, tensors from Python lists and NumPy arrays, and their attributes
import numpy as np
import torch

a = [[1, 2], [3, 4]]
b = np.array([[1, 2], [3, 4]])
x = torch.tensor(a)
y = torch.tensor(b)  # added: the seed says either can initialise a tensor
z = torch.tensor(x.numpy())  # added: a tensor from another tensor's values
print(x, y, z)
print(x.numpy())
print(x.shape, x.dtype, x.device, x.requires_grad, x.grad)
w = torch.randn(2, 2, requires_grad=True)  # added: a tensor whose .grad gets filled
(w * w).sum().backward()
print(w.dtype, w.requires_grad, w.grad.shape)

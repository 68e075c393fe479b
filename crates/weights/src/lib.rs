//! Readers and writers for InceptionV1 weight files: PyTorch .pth, MATLAB .mat, NumPy .npy, TensorFlow .pb, Caffe .caffemodel, and the native safetensors cache

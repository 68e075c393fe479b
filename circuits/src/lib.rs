//! Hand-written circuits: Gabor, line, early-curve and curve families that stand in for InceptionV1 neurons

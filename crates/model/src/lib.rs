//! InceptionV1 (Lucid inception5h and BVLC GoogLeNet) in burn, from one architecture table, with named taps and interventions

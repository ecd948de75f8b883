package model

import (
	_ "embed"
	"path"
)

// The python_function flavor of a gbdt directory loads through a small
// Python module shipped in the directory (pyfunc/creditrisk_pyfunc.py,
// written to code/), so that mlflow.pyfunc takes categorical features as
// the level strings the signature declares; the lightgbm flavor stays a
// plain LightGBM Booster.
const (
	// PyfuncCodeDir is the directory's code folder, which mlflow.pyfunc
	// puts on sys.path before importing the loader.
	PyfuncCodeDir = "code"
	// PyfuncLoader is the loader module's name.
	PyfuncLoader = "creditrisk_pyfunc"
)

//go:embed pyfunc/creditrisk_pyfunc.py
var pyfuncLoader []byte

// pyfuncLoaderFile is the loader's path inside a model directory.
var pyfuncLoaderFile = path.Join(PyfuncCodeDir, PyfuncLoader+".py")

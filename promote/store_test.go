package promote

import (
	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/mlflow"
)

// Both tracking stores the pipeline opens must fit.
var (
	_ Registry       = (*mlflow.Client)(nil)
	_ Registry       = (*filestore.Store)(nil)
	_ artifactStorer = (*filestore.Store)(nil)
)

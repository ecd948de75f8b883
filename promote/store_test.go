package promote

import (
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/mlflow/filestore"
)

// Both tracking stores the pipeline opens must fit.
var (
	_ Registry       = (*mlflow.Client)(nil)
	_ Registry       = (*filestore.Store)(nil)
	_ artifactStorer = (*filestore.Store)(nil)
)

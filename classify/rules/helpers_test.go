package rules

import "github.com/treatywatch/treatywatch/classify/internal/text"

func newFolderForTest() *text.Folder { return text.NewFolder() }

package depfail

import "gorm.io/gorm"

// Dialector wraps a gorm dialector so that every error gorm records
// (queries, Begin, Commit) passes through Classify before the dialector's
// own translation (set gorm.Config.TranslateError), and so do the errors
// of Row, Rows and Raw(...).Scan, which gorm sets without translating.
func Dialector(d gorm.Dialector) gorm.Dialector { return classifying{d} }

type classifying struct{ gorm.Dialector }

func (c classifying) Initialize(db *gorm.DB) error {
	if err := c.Dialector.Initialize(db); err != nil {
		return err
	}
	return db.Callback().Row().After("gorm:row").Register("depfail:classify", func(tx *gorm.DB) {
		if IsTransient(tx.Error) {
			tx.Error = Wrap("the database", tx.Error)
		}
	})
}

func (c classifying) Translate(err error) error {
	// Classify the driver's own error first: the dialector's translation
	// may replace it (e.g. by gorm.ErrDuplicatedKey).
	if IsTransient(err) {
		return Wrap("the database", err)
	}
	if t, ok := c.Dialector.(gorm.ErrorTranslator); ok {
		return t.Translate(err)
	}
	return err
}

// SavePoint and RollbackTo keep nested transactions working: gorm looks
// for them on the dialector itself.
func (c classifying) SavePoint(tx *gorm.DB, name string) error {
	if sp, ok := c.Dialector.(gorm.SavePointerDialectorInterface); ok {
		return sp.SavePoint(tx, name)
	}
	return gorm.ErrUnsupportedDriver
}

func (c classifying) RollbackTo(tx *gorm.DB, name string) error {
	if sp, ok := c.Dialector.(gorm.SavePointerDialectorInterface); ok {
		return sp.RollbackTo(tx, name)
	}
	return gorm.ErrUnsupportedDriver
}

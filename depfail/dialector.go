package depfail

import "gorm.io/gorm"

// Dialector wraps a gorm dialector so that every error gorm records
// (queries, Begin, Commit) passes through Classify after the dialector's
// own translation. It takes effect with gorm.Config.TranslateError.
func Dialector(d gorm.Dialector) gorm.Dialector { return classifying{d} }

type classifying struct{ gorm.Dialector }

func (c classifying) Translate(err error) error {
	// Classify the driver's own error first: the dialector's translation
	// may replace it (e.g. by gorm.ErrDuplicatedKey).
	if IsTransient(err) {
		return Wrap("database", err)
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

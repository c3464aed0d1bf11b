package features

import (
	"context"
	"fmt"
	"strings"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/features/store"
)

var _ featuresapi.Users = (*Service)(nil)

// PutUserProfile implements featuresapi.Users.
func (s *Service) PutUserProfile(ctx context.Context, userID string, profile map[string]string) error {
	if err := domain.ValidateUserID(userID); err != nil {
		return err
	}
	if err := domain.ValidateProfile(profile); err != nil {
		return err
	}
	u, err := capability[store.Users](s, "user profiles")
	if err != nil {
		return err
	}
	if err := u.PutProfile(ctx, userID, profile); err != nil {
		return fmt.Errorf("profile of %s: %w", userID, err)
	}
	return nil
}

// ForgetUser implements featuresapi.Users.
func (s *Service) ForgetUser(ctx context.Context, userID string) (featuresapi.Forgotten, error) {
	if err := domain.ValidateUserID(userID); err != nil {
		return featuresapi.Forgotten{}, err
	}
	u, err := capability[store.Users](s, "user profiles")
	if err != nil {
		return featuresapi.Forgotten{}, err
	}
	f, err := u.ForgetUser(ctx, userID)
	if err != nil {
		return featuresapi.Forgotten{}, fmt.Errorf("forget %s: %w", userID, err)
	}
	return featuresapi.Forgotten{Events: f.Events, Exposures: f.Exposures}, nil
}

// profileAffinity seeds a user with no history: the categories the
// profile's "categories" attribute names (comma-separated), each with an
// equal share.
func profileAffinity(profile map[string]string) map[string]float64 {
	var cats []string
	for _, c := range strings.Split(profile[domain.ProfileCategoriesKey], ",") {
		if c = strings.TrimSpace(c); c != "" {
			cats = append(cats, c)
		}
	}
	if len(cats) == 0 {
		return nil
	}
	aff := make(map[string]float64, len(cats))
	for _, c := range cats {
		aff[c] += 1 / float64(len(cats))
	}
	return aff
}

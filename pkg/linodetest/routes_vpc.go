package linodetest

func vpcRoutes() []*route { return nil }

func (v *VPC) subnet(id int) *Subnet {
	for _, sn := range v.Subnets {
		if sn.ID == id {
			return sn
		}
	}
	return nil
}

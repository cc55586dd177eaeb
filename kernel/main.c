// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlite: module entry, /dev/kvmlite and the system ioctls.
 *
 * Hardware virtualization is switched on in every CPU while at least one VM
 * exists (as kvm.ko did before 6.12), so kvm-amd/kvm-intel and kvmlite can
 * take turns on one host; whoever comes second gets -EBUSY at VM creation.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/uaccess.h>
#include <asm/mce.h>
#include "kvmlite.h"
#include "../uapi/linux/kvmlite.h"

const struct kvl_backend *kvl_ops;

/* kvmlite.h: the ops on the exit path as static calls, set in kvl_init(). */
DEFINE_STATIC_CALL_NULL(kvl_op_vcpu_load, *kvl_ops->vcpu_load);
DEFINE_STATIC_CALL_NULL(kvl_op_vcpu_run, *kvl_ops->vcpu_run);
DEFINE_STATIC_CALL_NULL(kvl_op_handle_exit, *kvl_ops->handle_exit);
DEFINE_STATIC_CALL_NULL(kvl_op_vcpu_put, *kvl_ops->vcpu_put);
DEFINE_STATIC_CALL_NULL(kvl_op_set_interrupt_shadow, *kvl_ops->set_interrupt_shadow);
DEFINE_STATIC_CALL_NULL(kvl_op_get_cr8, *kvl_ops->get_cr8);
DEFINE_STATIC_CALL_NULL(kvl_op_get_emu_regs, *kvl_ops->get_emu_regs);

static bool kvm_alias;
module_param(kvm_alias, bool, 0444);
MODULE_PARM_DESC(kvm_alias, "Also register the kvm misc device (10:232, /dev/kvm)");

static DEFINE_MUTEX(kvl_hw_lock);
static int kvl_hw_users;
static enum cpuhp_state kvl_hp_state;
static atomic_t kvl_hw_failed;
static DEFINE_PER_CPU(bool, kvl_hw_on);

static void kvl_cpu_enable(void *unused)
{
	int r;

	if (this_cpu_read(kvl_hw_on))
		return;
	r = kvl_ops->cpu_enable();
	if (r) {
		atomic_inc(&kvl_hw_failed);
		return;
	}
	this_cpu_write(kvl_hw_on, true);
}

static void kvl_cpu_disable(void *unused)
{
	if (!this_cpu_read(kvl_hw_on))
		return;
	kvl_ops->cpu_disable();
	this_cpu_write(kvl_hw_on, false);
}

static int kvl_cpu_online(unsigned int cpu)
{
	int r = 0;

	mutex_lock(&kvl_hw_lock);
	if (kvl_hw_users) {
		atomic_set(&kvl_hw_failed, 0);
		kvl_cpu_enable(NULL);
		if (atomic_read(&kvl_hw_failed))
			r = -EBUSY;
	}
	mutex_unlock(&kvl_hw_lock);
	return r;
}

static int kvl_cpu_offline(unsigned int cpu)
{
	mutex_lock(&kvl_hw_lock);
	if (kvl_hw_users)
		kvl_cpu_disable(NULL);
	mutex_unlock(&kvl_hw_lock);
	return 0;
}

/* Take a reference on "virtualization is enabled on all CPUs". */
int kvl_hw_get(void)
{
	int r = 0;

	cpus_read_lock();
	mutex_lock(&kvl_hw_lock);
	if (kvl_hw_users++ == 0) {
		atomic_set(&kvl_hw_failed, 0);
		on_each_cpu(kvl_cpu_enable, NULL, 1);
		if (atomic_read(&kvl_hw_failed)) {
			on_each_cpu(kvl_cpu_disable, NULL, 1);
			kvl_hw_users = 0;
			pr_warn("%s is in use by another hypervisor on %d CPU(s); unload it first\n",
				kvl_ops->name, atomic_read(&kvl_hw_failed));
			r = -EBUSY;
		}
	}
	mutex_unlock(&kvl_hw_lock);
	cpus_read_unlock();
	return r;
}

void kvl_hw_put(void)
{
	cpus_read_lock();
	mutex_lock(&kvl_hw_lock);
	if (!WARN_ON_ONCE(kvl_hw_users <= 0) && --kvl_hw_users == 0)
		on_each_cpu(kvl_cpu_disable, NULL, 1);
	mutex_unlock(&kvl_hw_lock);
	cpus_read_unlock();
}

static long kvl_dev_ioctl(struct file *filp, unsigned int ioctl, unsigned long arg)
{
	switch (ioctl) {
	case KVM_GET_API_VERSION:
		if (arg)
			return -EINVAL;
		return KVL_API_VERSION;
	case KVM_CREATE_VM:
		return kvl_create_vm(arg);
	case KVM_CHECK_EXTENSION:
		return kvl_check_extension(NULL, arg);
	case KVM_GET_SUPPORTED_CPUID:
		return kvl_get_supported_cpuid((struct kvm_cpuid2 __user *)arg);
	case KVM_GET_MSR_INDEX_LIST:
		return kvl_get_msr_index_list((struct kvm_msr_list __user *)arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		if (arg)
			return -EINVAL;
		return KVL_VCPU_MMAP_PAGES * PAGE_SIZE;
	case KVM_X86_GET_MCE_CAP_SUPPORTED: {
		u64 cap = KVL_MCE_CAP_SUPPORTED;

		return copy_to_user((void __user *)arg, &cap, sizeof(cap)) ? -EFAULT : 0;
	}
	default:
		/* What kvm_arch_dev_ioctl() answers for an ioctl it does not know. */
		return -EINVAL;
	}
}

static const struct file_operations kvl_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= kvl_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice kvl_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KVMLITE_DEVICE_NAME,
	.fops	= &kvl_dev_fops,
};

static struct miscdevice kvl_kvm_dev = {
	.minor	= KVM_MINOR,
	.name	= "kvm",
	.fops	= &kvl_dev_fops,
};

static const struct kvl_backend *const kvl_backends[] = {
	&kvl_svm_backend,
	&kvl_vmx_backend,
};

static int __init kvl_init(void)
{
	int i, r = -ENODEV;

	for (i = 0; i < ARRAY_SIZE(kvl_backends); i++) {
		r = kvl_backends[i]->probe();
		if (r != -ENODEV) {
			kvl_ops = kvl_backends[i];
			break;
		}
	}
	if (!kvl_ops) {
		pr_err("no hardware virtualization (neither AMD-V nor VT-x) on this CPU\n");
		return -ENODEV;
	}
	if (r) {
		pr_err("%s present but unusable (%d)\n", kvl_ops->name, r);
		return r;
	}

	static_call_update(kvl_op_vcpu_load, kvl_ops->vcpu_load);
	static_call_update(kvl_op_vcpu_run, kvl_ops->vcpu_run);
	static_call_update(kvl_op_handle_exit, kvl_ops->handle_exit);
	static_call_update(kvl_op_vcpu_put, kvl_ops->vcpu_put);
	static_call_update(kvl_op_set_interrupt_shadow, kvl_ops->set_interrupt_shadow);
	static_call_update(kvl_op_get_cr8, kvl_ops->get_cr8);
	static_call_update(kvl_op_get_emu_regs, kvl_ops->get_emu_regs);

	r = kvl_fpu_init();
	if (r)
		return r;
	if (kvl_ops->vcpu_put)
		preempt_notifier_inc();
	kvl_irqfd_wq = alloc_workqueue("kvmlite-irqfd", 0, 0);
	if (!kvl_irqfd_wq) {
		r = -ENOMEM;
		goto err_notifiers;
	}
	r = kvl_ops->init();
	if (r)
		goto err_wq;

	r = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "kvmlite:online",
				      kvl_cpu_online, kvl_cpu_offline);
	if (r < 0)
		goto err_backend;
	kvl_hp_state = r;

	r = misc_register(&kvl_dev);
	if (r)
		goto err_hp;
	if (kvm_alias) {
		r = misc_register(&kvl_kvm_dev);
		if (r) {
			pr_err("cannot register /dev/kvm alias (is kvm.ko loaded?): %d\n", r);
			goto err_misc;
		}
	}
	pr_info("%s backend ready, /dev/%s%s\n", kvl_ops->name, KVMLITE_DEVICE_NAME,
		kvm_alias ? " and /dev/kvm" : "");
	return 0;

err_misc:
	misc_deregister(&kvl_dev);
err_hp:
	cpuhp_remove_state_nocalls(kvl_hp_state);
err_backend:
	kvl_ops->exit();
err_wq:
	destroy_workqueue(kvl_irqfd_wq);
err_notifiers:
	if (kvl_ops->vcpu_put)
		preempt_notifier_dec();
	return r;
}

static void __exit kvl_exit(void)
{
	if (kvm_alias)
		misc_deregister(&kvl_kvm_dev);
	misc_deregister(&kvl_dev);
	cpuhp_remove_state_nocalls(kvl_hp_state);
	WARN_ON_ONCE(kvl_hw_users);
	kvl_ops->exit();
	destroy_workqueue(kvl_irqfd_wq);
	if (kvl_ops->vcpu_put)
		preempt_notifier_dec();
}

module_init(kvl_init);
module_exit(kvl_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kvmlite: a small KVM-compatible hypervisor");
